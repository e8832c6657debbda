package dev.rpctl;

import dev.rpctl.cli.Cli;

import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;

/** Entry point: {@link #run} is what tests call; main only exits with its code. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        boolean terminal = System.console() != null;
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = Cli.run(System.in, out, err, System.getenv(), Path.of("").toAbsolutePath(), terminal, args);
        System.exit(code);
    }

    /** Runs one command line with the process environment; returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return Cli.run(out, err, System.getenv(), Path.of("").toAbsolutePath(), false, args);
    }

    /** Runs one command line with the given environment and working directory. */
    public static int run(PrintWriter out, PrintWriter err, Map<String, String> env, Path cwd, String... args) {
        return Cli.run(out, err, env, cwd, false, args);
    }

    /** As {@link #run(PrintWriter, PrintWriter, Map, Path, String...)}, with the given standard input. */
    public static int run(InputStream in, PrintWriter out, PrintWriter err, Map<String, String> env, Path cwd, String... args) {
        return Cli.run(in, out, err, env, cwd, false, args);
    }
}
