package dev.rpctl.cli;

import sun.misc.Signal;

/**
 * SIGTERM and SIGINT handled in place of the JVM's shutdown, so that a drained daemon exits 0
 * (a shutdown hook would leave the status at 143 and block System.exit).
 */
final class Signals {
    private Signals() {
    }

    static void onTerminate(Runnable action) {
        onTerminate(signal -> action.run());
    }

    /** As {@link #onTerminate(Runnable)}, told which signal came: TERM or INT. */
    static void onTerminate(java.util.function.Consumer<String> action) {
        for (String name : new String[]{"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> {
                Thread t = new Thread(() -> action.accept(name), "shutdown-" + name.toLowerCase());
                t.setDaemon(true);
                t.start();
            });
        }
    }
}
