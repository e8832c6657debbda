package dev.rpctl.cli;

import dev.rpctl.app.App;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns any failure into one line on stderr and the documented exit code. A configuration error
 * lists every problem, one per line. --stacktrace adds the trace.
 */
final class ErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {
    private final RpctlCommand root;

    ErrorHandler(RpctlCommand root) {
        this.root = root;
    }

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println(prefix() + RpctlException.oneLine(ex.getMessage()));
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        if (root.json() || Arrays.asList(args).contains("--json")) {
            jsonError(cmd.getOut(), ExitCode.USAGE, RpctlException.oneLine(ex.getMessage()), List.of());
        }
        return ExitCode.USAGE.code();
    }

    @Override
    public int handleExecutionException(Exception raised, CommandLine cmd, ParseResult parseResult) {
        PrintWriter err = cmd.getErr();
        Exception ex = App.failure(raised);
        ExitCode code;
        String message;
        List<String> problems = List.of();
        if (ex instanceof ConfigException ce) {
            problems = ce.problems().stream().map(RpctlException::oneLine).toList();
            for (String p : problems) {
                err.println(prefix() + p);
            }
            code = ExitCode.CONFIG;
            message = String.join("; ", problems);
        } else if (ex instanceof RpctlException re) {
            message = RpctlException.oneLine(re.getMessage());
            err.println(prefix() + message);
            code = re.exitCode();
        } else if (ex instanceof ParameterException pe) {
            return handleParseException(pe, new String[0]);
        } else {
            message = "internal error: " + RpctlException.rootMessage(ex);
            err.println(prefix() + message + (root.stacktrace() ? "" : " (rerun with --stacktrace for details)"));
            code = ExitCode.SOFTWARE;
        }
        if (root.stacktrace()) {
            ex.printStackTrace(err);
        }
        err.flush();
        // a command that printed its document before failing (inspect with a side down) has said it there
        if (root.json() && !root.output().printed()) {
            jsonError(cmd.getOut(), code, message, problems);
        }
        return code.code();
    }

    /** The --json form of a failure, on stdout: {"schema": 1, "error": {"code": 69, "message": "..."}}. */
    private void jsonError(PrintWriter out, ExitCode code, String message, List<String> problems) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code.code());
        error.put("kind", code.name().toLowerCase(java.util.Locale.ROOT));
        error.put("message", message);
        if (problems.size() > 1) {
            error.put("problems", problems);
        }
        new Output(out, out, true, false).json(Map.of("error", error));
    }

    private String prefix() {
        return root.colorOn() ? CommandLine.Help.Ansi.ON.string("@|bold,red rpctl:|@ ") : "rpctl: ";
    }
}
