package dev.rpctl.cli;

import sun.misc.Signal;

import java.util.function.Consumer;

/**
 * SIGTERM and SIGINT handled in place of the JVM's shutdown, so that a drained daemon exits 0
 * (a shutdown hook would leave the status at 143 and block System.exit). A command run by the
 * shell hands its action to the shell instead, whose Ctrl-C stops that command and not the shell.
 */
final class Signals {
    // the shell's receiver of the stop actions of the command running on this thread
    private static final ThreadLocal<Consumer<Consumer<String>>> SHELL = new ThreadLocal<>();

    private Signals() {
    }

    static void onTerminate(Runnable action) {
        onTerminate(signal -> action.run());
    }

    /** As {@link #onTerminate(Runnable)}, told which signal came: TERM or INT. */
    static void onTerminate(Consumer<String> action) {
        Consumer<Consumer<String>> shell = SHELL.get();
        if (shell != null) {
            shell.accept(action);
            return;
        }
        for (String name : new String[]{"TERM", "INT"}) {
            handle(name, () -> action.accept(name));
        }
    }

    /**
     * For a command that stops through a shutdown hook when run alone: in the shell, where Ctrl-C
     * does not end the process, the action is what Ctrl-C does. Outside the shell, nothing.
     */
    static void onShellInterrupt(Runnable action) {
        Consumer<Consumer<String>> shell = SHELL.get();
        if (shell != null) {
            shell.accept(signal -> action.run());
        }
    }

    /** Runs the action on a thread of its own when the signal comes; replaces any other handler of it. */
    static void handle(String signal, Runnable action) {
        Signal.handle(new Signal(signal), s -> {
            Thread t = new Thread(action, "shutdown-" + signal.toLowerCase());
            t.setDaemon(true);
            t.start();
        });
    }

    /** On this thread, commands hand their stop actions to the given receiver instead of the JVM's signals. */
    static void inShell(Consumer<Consumer<String>> receiver) {
        SHELL.set(receiver);
    }
}
