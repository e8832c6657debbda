package dev.rpctl.cli;

import dev.rpctl.errors.ExitCode;
import org.jline.reader.EOFError;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.Parser;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * The loop of {@code rpctl shell}: each line is one rpctl command line, run on the shell's
 * configuration and open connections. A command runs on a thread of its own, so that Ctrl-C
 * stops it and not the shell: a command that knows how to stop (a claim load, the daemon) is
 * asked to; any other is interrupted and left behind, its output cut off.
 */
final class Shell {
    static final String PROMPT = "rpctl> ";
    private static final int EXIT = -1;

    private final RpctlCommand root;
    private final PrintWriter out;
    private final PrintWriter err;
    private final SeenIds seen;
    private volatile Running running;

    Shell(RpctlCommand root, PrintWriter out, PrintWriter err) {
        this.root = root;
        this.out = out;
        this.err = err;
        this.seen = root.seenIds();
    }

    SeenIds seen() {
        return seen;
    }

    /**
     * Runs the lines of a script: stops at the first that fails and returns its exit code, or with
     * keepGoing runs them all and returns the first failure's code (0 when none failed).
     */
    int script(BufferedReader lines, boolean keepGoing) throws IOException {
        int first = 0;
        String text;
        while ((text = lines.readLine()) != null) {
            int code = line(text);
            if (code == EXIT) {
                break;
            }
            if (code != 0) {
                if (!keepGoing) {
                    return code;
                }
                first = first == 0 ? code : first;
            }
        }
        return first;
    }

    /** Reads lines with editing, completion and history until exit or Ctrl-D; Ctrl-C stops the running command. */
    int interactive(Terminal terminal, Path history) {
        LineReaderBuilder builder = LineReaderBuilder.builder().terminal(terminal).appName("rpctl")
                .parser(new DefaultParser()).completer(new ShellCompleter(Shell::model, seen));
        if (history != null) {
            builder.variable(LineReader.HISTORY_FILE, history);
            // a line carrying a secret (--mysql-password ...) is never written to the history
            builder.variable(LineReader.HISTORY_IGNORE, "*password*:*PASSWORD*");
        }
        LineReader reader = builder.build();
        terminal.handle(Terminal.Signal.INT, signal -> interrupt());
        try {
            while (true) {
                String text;
                try {
                    text = reader.readLine(PROMPT);
                } catch (UserInterruptException e) {
                    continue;
                } catch (EndOfFileException e) {
                    return 0;
                }
                if (line(text) == EXIT) {
                    return 0;
                }
            }
        } finally {
            try {
                reader.getHistory().save();
            } catch (IOException e) {
                err.println("rpctl: could not save the history to " + history + ": " + e.getMessage());
                err.flush();
            }
        }
    }

    /**
     * The command model that completion walks: the one each line is parsed with, less the hidden
     * option of every configuration key, which would bury the command's own.
     */
    static picocli.CommandLine.Model.CommandSpec model() {
        return Cli.model(new RpctlCommand()).getCommandSpec();
    }

    /** Runs one line; EXIT for exit or quit. */
    int line(String text) {
        List<String> words = words(text);
        if (words.isEmpty() || words.get(0).startsWith("#")) {
            return 0;
        }
        if (words.size() == 1 && (words.get(0).equals("exit") || words.get(0).equals("quit"))) {
            return EXIT;
        }
        if (words.get(0).equals("rpctl")) {
            words = words.subList(1, words.size());
        }
        if (!words.isEmpty() && words.get(0).equals("shell")) {
            err.println("rpctl: already in the shell; type the command alone, e.g. 'inspect --user 42'");
            err.flush();
            return ExitCode.USAGE.code();
        }
        seen.record(words);
        return run(words.toArray(String[]::new));
    }

    static List<String> words(String text) {
        try {
            return new DefaultParser().parse(text, text.length(), Parser.ParseContext.ACCEPT_LINE).words().stream()
                    .filter(w -> !w.isEmpty()).toList();
        } catch (EOFError e) {
            // an unclosed quote: the words as typed, so the command names what is wrong
            return List.of(text.trim().split("\\s+"));
        }
    }

    private int run(String[] args) {
        Running r = new Running();
        Thread worker = new Thread(() -> {
            Signals.inShell(r.stops::add);
            try {
                r.done.complete(Cli.execute(root.line(), new PrintWriter(r.out, true), new PrintWriter(r.err, true), args));
            } catch (Throwable t) {
                r.done.completeExceptionally(t);
            }
        }, "rpctl-shell-command");
        worker.setDaemon(true);
        r.worker = worker;
        running = r;
        worker.start();
        try {
            return r.done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        } catch (ExecutionException e) {
            err.println("rpctl: internal error: " + e.getCause());
            err.flush();
            return ExitCode.SOFTWARE.code();
        } finally {
            running = null;
        }
    }

    /**
     * Ctrl-C: a command that registered how to stop is asked to, and reports as it does on its own
     * (a second Ctrl-C leaves it behind); any other is interrupted and left behind at once.
     * Returns false when no command runs.
     */
    synchronized boolean interrupt() {
        Running r = running;
        if (r == null) {
            return false;
        }
        if (r.interrupts++ == 0 && !r.stops.isEmpty()) {
            for (Consumer<String> stop : r.stops) {
                stop.accept("INT");
            }
            return true;
        }
        r.worker.interrupt();
        r.out.shut();
        r.err.shut();
        err.println("rpctl: interrupted" + (r.stops.isEmpty() ? "" : "; the command is left to finish in the background"));
        err.flush();
        r.done.complete(130);
        return true;
    }

    /** History: $XDG_STATE_HOME/rpctl/history, else ~/.local/state/rpctl/history; null when neither can be had. */
    static Path historyFile(Map<String, String> env) {
        String state = env.getOrDefault("XDG_STATE_HOME", "");
        Path dir;
        if (!state.isEmpty()) {
            dir = Path.of(state, "rpctl");
        } else {
            String home = env.getOrDefault("HOME", System.getProperty("user.home", ""));
            if (home.isEmpty()) {
                return null;
            }
            dir = Path.of(home, ".local", "state", "rpctl");
        }
        Path file = dir.resolve("history");
        try {
            Files.createDirectories(dir);
            // the history is the user's alone: a folder and a file only its owner reads
            if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
                Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
                if (!Files.exists(file)) {
                    Files.createFile(file);
                }
                Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            }
        } catch (IOException e) {
            return null;
        }
        return file;
    }

    /** The command running now. */
    private final class Running {
        final Gate out = new Gate(Shell.this.out);
        final Gate err = new Gate(Shell.this.err);
        final List<Consumer<String>> stops = new CopyOnWriteArrayList<>();
        final CompletableFuture<Integer> done = new CompletableFuture<>();
        Thread worker;
        int interrupts;
    }

    /** A writer that passes everything on until it is shut, when a command is left behind. */
    private static final class Gate extends Writer {
        private final Writer target;
        private volatile boolean shut;

        Gate(Writer target) {
            this.target = target;
        }

        void shut() {
            shut = true;
        }

        @Override
        public void write(char[] buf, int off, int len) throws IOException {
            if (!shut) {
                target.write(buf, off, len);
            }
        }

        @Override
        public void flush() throws IOException {
            if (!shut) {
                target.flush();
            }
        }

        @Override
        public void close() {
            // the shell's writers outlive its commands
        }
    }
}
