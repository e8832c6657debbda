package dev.rpctl.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.rpctl.errors.RpctlException;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Builds the command line, installs the handlers and logging, runs one invocation. */
public final class Cli {
    private Cli() {
    }

    /** The command line with every subcommand and every option, the key table's included. */
    public static CommandLine commandLine(RpctlCommand root) {
        CommandLine cl = model(root);
        root.addKeyOptions(cl.getCommandSpec());
        return configure(cl, root);
    }

    /** The whole command model, every subcommand built from its annotations, without the key table's options. */
    static CommandLine model(RpctlCommand root) {
        CommandLine cl = new CommandLine(root);
        for (Class<?> command : RpctlCommand.SUBCOMMANDS) {
            cl.addSubcommand(command);
        }
        return cl;
    }

    /**
     * The command line for these arguments. Only the subcommands an argument names are built from
     * their annotations (the options, fields and methods of every command are most of a start);
     * the others are outlines (name, aliases, header and description), enough for the root's help
     * and for the suggestion after a misspelt command. The key table's hidden options are added
     * only when an argument may be one (an option no command declares, a misspelt one included, so
     * that the suggestion still names the key).
     */
    static CommandLine commandLine(RpctlCommand root, String... args) {
        Set<String> words = new HashSet<>();
        for (String arg : args) {
            if (arg.equals("--")) {
                break;
            }
            if (arg.startsWith("@")) {
                // an @file holds arguments of its own, read by picocli: every command may be named there
                return commandLine(root);
            }
            words.add(arg);
        }
        CommandLine cl = new CommandLine(root);
        for (Class<?> command : RpctlCommand.SUBCOMMANDS) {
            CommandLine.Command named = command.getAnnotation(CommandLine.Command.class);
            if (words.contains(named.name()) || Arrays.stream(named.aliases()).anyMatch(words::contains)) {
                cl.addSubcommand(command);
            } else {
                cl.addSubcommand(named.name(), outline(named), named.aliases());
            }
        }
        if (mayNameAKey(cl.getCommandSpec(), args)) {
            root.addKeyOptions(cl.getCommandSpec());
        }
        return configure(cl, root);
    }

    /** A subcommand as the root's help lists it; never run (a line that names it builds it whole). */
    private static CommandLine.Model.CommandSpec outline(CommandLine.Command named) {
        CommandLine.Model.CommandSpec spec = CommandLine.Model.CommandSpec.create();
        spec.usageMessage().header(named.header()).description(named.description()).hidden(named.hidden());
        return spec;
    }

    static boolean mayNameAKey(CommandLine.Model.CommandSpec root, String... args) {
        Set<String> declared = new HashSet<>();
        Deque<CommandLine.Model.CommandSpec> specs = new ArrayDeque<>(List.of(root));
        while (!specs.isEmpty()) {
            CommandLine.Model.CommandSpec spec = specs.pop();
            spec.options().forEach(o -> declared.addAll(List.of(o.names())));
            spec.subcommands().values().forEach(sub -> specs.push(sub.getCommandSpec()));
        }
        for (String arg : args) {
            if (arg.equals("--")) {
                break;
            }
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && !declared.contains(eq < 0 ? arg : arg.substring(0, eq))) {
                return true;
            }
        }
        return false;
    }

    private static CommandLine configure(CommandLine cl, RpctlCommand root) {
        ErrorHandler handler = new ErrorHandler(root);
        cl.setExecutionExceptionHandler(handler);
        cl.setParameterExceptionHandler(handler);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionStrategy(parseResult -> {
            if (helpOnly(parseResult) && root.verbosity() == 0) {
                // --help and --version print from the command model alone: no logging, no configuration
                // (--version -v asks the servers, logged and closed as any command)
                return new CommandLine.RunLast().execute(parseResult);
            }
            try {
                configureLogging(root, parseResult);
            } catch (RpctlException e) {
                throw new CommandLine.ExecutionException(parseResult.commandSpec().commandLine(), e.getMessage(), e);
            }
            long start = System.nanoTime();
            Object result = null;
            try {
                result = new CommandLine.RunLast().execute(parseResult);
                return (int) result;
            } catch (CommandLine.ExecutionException e) {
                // explained while the connections are still open, so it can name the server
                if (root.appOpen() && e.getCause() instanceof Exception cause) {
                    throw new CommandLine.ExecutionException(e.getCommandLine(), e.getMessage(), root.app().explain(cause));
                }
                throw e;
            } finally {
                root.closeApp();
                logTiming(parseResult, start, result);
            }
        });
        return cl;
    }

    public static int run(PrintWriter out, PrintWriter err, Map<String, String> env, Path cwd, boolean terminal, String... args) {
        return run(System.in, out, err, env, cwd, terminal, args);
    }

    /** As {@link #run(PrintWriter, PrintWriter, Map, Path, boolean, String...)}, reading the given standard input. */
    public static int run(InputStream in, PrintWriter out, PrintWriter err, Map<String, String> env, Path cwd, boolean terminal,
                          String... args) {
        return execute(new RpctlCommand(env, cwd, terminal, in, null), out, err, args);
    }

    /** Runs one command line on the given root: a process's, or one line of the shell. */
    static int execute(RpctlCommand root, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine(root, args);
        cl.setOut(out);
        cl.setErr(err);
        cl.setColorScheme(CommandLine.Help.defaultColorScheme(root.colorOn() ? CommandLine.Help.Ansi.ON : CommandLine.Help.Ansi.OFF));
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** Whether the command line only asks for help or the version, at any level ({@code rpctl help status} too). */
    static boolean helpOnly(CommandLine.ParseResult parseResult) {
        for (CommandLine.ParseResult p = parseResult; p != null; p = p.subcommand()) {
            if (p.isUsageHelpRequested() || p.isVersionHelpRequested() || p.commandSpec().userObject() instanceof CommandLine.HelpCommand) {
                return true;
            }
        }
        return false;
    }

    /** WARN for one-shot commands and INFO for the daemon, raised by -v, -vv, -vvv. */
    private static void configureLogging(RpctlCommand root, CommandLine.ParseResult parseResult) {
        CommandLine.ParseResult leaf = parseResult;
        while (leaf.subcommand() != null) {
            leaf = leaf.subcommand();
        }
        // the operator's logback file sets the levels; -v still raises them
        if (Logging.userFile(root.env()) && root.verbosity() == 0) {
            return;
        }
        boolean daemon = leaf.commandSpec().userObject() instanceof LongRunning;
        Level[] levels = {daemon ? Level.INFO : Level.WARN, Level.INFO, Level.DEBUG, Level.TRACE};
        Level level = levels[Math.min(root.verbosity() + (daemon && root.verbosity() > 0 ? 1 : 0), 3)];
        Logger rpctl = (Logger) LoggerFactory.getLogger("dev.rpctl");
        rpctl.setLevel(level);
        Logger rootLogger = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        rootLogger.setLevel(root.verbosity() >= 3 ? Level.DEBUG : Level.WARN);
        // -v: the pool's start and stop; -vv: every statement, logged by the MySQL driver's profiler (see Database)
        ((Logger) LoggerFactory.getLogger("com.zaxxer.hikari")).setLevel(root.verbosity() >= 1 ? Level.INFO : Level.ERROR);
        ((Logger) LoggerFactory.getLogger("MySQL")).setLevel(root.verbosity() >= 2 ? Level.INFO : Level.WARN);
    }

    /** -v: how long the command took, by its full name. */
    private static void logTiming(CommandLine.ParseResult parseResult, long startNanos, Object result) {
        org.slf4j.Logger log = LoggerFactory.getLogger(Cli.class);
        if (log.isInfoEnabled()) {
            CommandLine.ParseResult leaf = parseResult;
            while (leaf.subcommand() != null) {
                leaf = leaf.subcommand();
            }
            log.info("{}: {} in {} ms", leaf.commandSpec().qualifiedName(), result instanceof Integer code ? "exit " + code : "failed",
                    (System.nanoTime() - startNanos) / 1_000_000);
        }
    }

    /** Switches the stderr log to JSON lines (one object per event) when the configuration asks for it. */
    static void logFormat(dev.rpctl.config.LogFormat format) {
        if (format != dev.rpctl.config.LogFormat.JSON) {
            return;
        }
        Logger rootLogger = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        @SuppressWarnings("unchecked")
        ch.qos.logback.core.OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                (ch.qos.logback.core.OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent>) rootLogger.getAppender("STDERR");
        if (appender == null || appender.getEncoder() instanceof ch.qos.logback.classic.encoder.JsonEncoder) {
            return;
        }
        ch.qos.logback.classic.encoder.JsonEncoder json = new ch.qos.logback.classic.encoder.JsonEncoder();
        json.setContext(rootLogger.getLoggerContext());
        json.setWithSequenceNumber(false);
        json.setWithNanoseconds(false);
        json.setWithContext(false);
        json.setWithMessage(false);
        json.setWithArguments(false);
        json.setWithFormattedMessage(true);
        json.start();
        appender.stop();
        appender.setEncoder(json);
        appender.start();
    }

    /** Marks commands that run until stopped, which log at INFO by default. */
    interface LongRunning {
    }
}
