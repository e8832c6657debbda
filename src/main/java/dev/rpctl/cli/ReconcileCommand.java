package dev.rpctl.cli;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.reconcile.PromText;
import dev.rpctl.reconcile.ReconcileReport;
import dev.rpctl.reconcile.ReconcileService;
import dev.rpctl.reconcile.Scope;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "reconcile", description = {
        "Compares every claim of a scope (and every key deleted from it) with each cache side's entry, in key order,",
        "and repairs what still differs through the protocol: a difference is read again from the primary first, and",
        "a repair swaps exactly the value it compared. Safe while claims flow. Interrupted, it saves where it got to."},
        footer = {"", "Exit: 0 consistent or repaired; 1 differences found (--dry-run) or left; 69 a server is unreachable;",
                "75 interrupted (run again with --resume) or another reconcile of the same scope is running."})
final class ReconcileCommand extends BaseCommand {
    @Option(names = "--activity", paramLabel = "A", description = "Only this activity.")
    long activity;

    @Option(names = "--since", paramLabel = "DURATION", description = "Only rows changed (and keys deleted) within this long, e.g. 15m.")
    String since;

    @Option(names = "--users", paramLabel = "FROM-TO", description = "Only these users, e.g. 1-1000.")
    String users;

    @Option(names = "--side", defaultValue = "all", paramLabel = "a|b|all", description = "The sides to check (default: ${DEFAULT-VALUE}).")
    String side;

    @Option(names = "--dry-run", description = "Report the differences; write nothing.")
    boolean dryRun;

    @Option(names = "--repair-mode", defaultValue = "rewrite", paramLabel = "rewrite|invalidate",
            description = "rewrite: write the primary's row; invalidate: remove the entry so the next read fills it (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--rate", paramLabel = "N", description = "At most N keys a second (default: as fast as it goes).")
    double rate;

    @Option(names = "--chunk", defaultValue = "1000", paramLabel = "N", description = "Keys read a round trip (default: ${DEFAULT-VALUE}).")
    int chunk;

    @Option(names = "--resume", description = "Continue the interrupted run of the same scope instead of starting over.")
    boolean resume;

    @Option(names = "--orphans", description = "Also walk each side's keys of the scope (SCAN, every master of a Cluster) for entries whose row does not exist.")
    boolean orphans;

    @Option(names = "--prom-file", paramLabel = "PATH", description = "Also write the figures as Prometheus text (for node_exporter's textfile collector).")
    Path promFile;

    @Override
    public Integer call() throws InterruptedException, IOException {
        ReconcileService.Request request = new ReconcileService.Request(scope(), dryRun, repairMode(), rate, chunk, resume, orphans);
        ReconcileService service = app().reconcileService(side);
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
        ReconcileReport report;
        try {
            report = service.run(request, ReconcileView.progress(out()));
        } finally {
            finished.countDown();
        }
        if (promFile != null) {
            PromText.write(promFile, report, System.currentTimeMillis());
        }
        ReconcileView.render(out(), report);
        if (report.interrupted()) {
            throw RpctlException.temporary("interrupted; run the same command with --resume to continue where it stopped");
        }
        return report.consistent() ? ExitCode.OK.code() : ExitCode.DIFFERENCES.code();
    }

    private Scope scope() {
        if (activity < 0) {
            throw RpctlException.usage("--activity must be a positive id, got " + activity);
        }
        if (chunk < 1 || chunk > 10_000) {
            throw RpctlException.usage("--chunk must be 1-10000, got " + chunk);
        }
        if (rate < 0) {
            throw RpctlException.usage("--rate must be a positive number of keys a second, got " + rate);
        }
        Long from = null;
        Long to = null;
        if (users != null) {
            long[] range = LoadOptions.range(users);
            from = range[0];
            to = range[1];
        }
        return new Scope(activity, since == null ? null : duration("--since", since), from, to,
                app().sides(side).stream().map(s -> s.name()).toList());
    }

    private ReconcileService.RepairMode repairMode() {
        return switch (mode) {
            case "rewrite" -> ReconcileService.RepairMode.REWRITE;
            case "invalidate" -> ReconcileService.RepairMode.INVALIDATE;
            default -> throw RpctlException.usage("--repair-mode must be rewrite or invalidate, got \"" + mode + "\"");
        };
    }
}
