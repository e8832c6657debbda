package dev.rpctl.cli;

import dev.rpctl.App;
import dev.rpctl.ExitCode;
import dev.rpctl.RpctlException;
import dev.rpctl.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.PrintWriter;

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
        err.println(prefix() + ex.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return ExitCode.USAGE.code();
    }

    @Override
    public int handleExecutionException(Exception raised, CommandLine cmd, ParseResult parseResult) {
        PrintWriter err = cmd.getErr();
        Exception ex = App.failure(raised);
        ExitCode code;
        if (ex instanceof ConfigException ce) {
            for (String p : ce.problems()) {
                err.println(prefix() + p);
            }
            code = ExitCode.CONFIG;
        } else if (ex instanceof RpctlException re) {
            err.println(prefix() + re.getMessage());
            code = re.exitCode();
        } else if (ex instanceof ParameterException pe) {
            return handleParseException(pe, new String[0]);
        } else {
            err.println(prefix() + "internal error: " + RpctlException.rootMessage(ex)
                    + (root.stacktrace() ? "" : " (rerun with --stacktrace for details)"));
            code = ExitCode.SOFTWARE;
        }
        if (root.stacktrace()) {
            ex.printStackTrace(err);
        }
        err.flush();
        return code.code();
    }

    private String prefix() {
        return root.colorOn() ? CommandLine.Help.Ansi.ON.string("@|bold,red rpctl:|@ ") : "rpctl: ";
    }
}
