package dev.rpctl.cli;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.reconcile.PromText;
import dev.rpctl.reconcile.ReconcileReport;
import dev.rpctl.reconcile.ReconcileService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "reconcile", description = "Compares every claim of a scope (and every key deleted from it) with each"
        + " cache side's entry, in key order, and repairs what still differs through the protocol: a difference is read"
        + " again from the primary first, and a repair swaps exactly the value it compared. Safe while claims flow."
        + " Interrupted, it saves where it got to.",
        footer = {"", "Exit: 0 consistent or repaired; 1 differences found (--dry-run) or left; 69 a server is unreachable;",
                "75 interrupted (run again with --resume) or another reconcile of the same scope is running."})
final class ReconcileCommand extends BaseCommand {
    @Mixin
    ReconcileOptions options;

    @Override
    public Integer call() throws InterruptedException, IOException {
        ReconcileService service = app().reconcileService(options.side);
        ReconcileService.Request request = options.request(app().sides(options.side).stream().map(s -> s.name()).toList());
        // SIGINT or SIGTERM: the run stops after its chunk and saves where it got to before the JVM exits
        CountDownLatch finished = new CountDownLatch(1);
        Thread stopper = new Thread(() -> {
            service.stop();
            try {
                finished.await(15, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                // exiting anyway
            }
        }, "reconcile-stop");
        Runtime.getRuntime().addShutdownHook(stopper);
        Signals.onShellInterrupt(service::stop);
        ReconcileReport report;
        Progress progress = progress("reconcile", "keys");
        try {
            report = service.run(request, progress::update);
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(stopper);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it sees the latch counted down
            }
        }
        progress.finish(report.keysChecked(), report.seconds(), report.interrupted() ? "interrupted" : "");
        if (options.promFile != null) {
            PromText.write(options.promFile, report, System.currentTimeMillis());
        }
        ReconcileView.render(out(), report);
        if (report.interrupted()) {
            throw RpctlException.temporary("interrupted; run the same command with --resume to continue where it stopped");
        }
        return report.consistent() ? ExitCode.OK.code() : ExitCode.DIFFERENCES.code();
    }
}
