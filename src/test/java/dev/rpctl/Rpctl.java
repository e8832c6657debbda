package dev.rpctl;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs rpctl command lines in-process, as a user would type them, and captures what they print.
 * The environment is the test process's (bin/test exports the local services) plus overrides.
 */
public final class Rpctl {
    private final Map<String, String> env;
    private final Path cwd;

    public record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Rpctl(Map<String, String> env, Path cwd) {
        this.env = env;
        this.cwd = cwd;
    }

    /** The environment of the test process; fails fast when the local services are not exported. */
    public static Rpctl withServices() {
        return new Rpctl(new HashMap<>(Services.env()), Path.of("").toAbsolutePath());
    }

    /** A bare environment: nothing but what the test sets. */
    public static Rpctl isolated(Path cwd) {
        return new Rpctl(new HashMap<>(), cwd);
    }

    public Rpctl with(String name, String value) {
        Map<String, String> e = new HashMap<>(env);
        e.put(name, value);
        return new Rpctl(e, cwd);
    }

    public Rpctl in(Path dir) {
        return new Rpctl(env, dir);
    }

    public Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), env, cwd, args);
        return new Result(code, out.toString(), err.toString());
    }
}
