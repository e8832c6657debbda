package dev.rpctl.cli;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.reconcile.ReconcileService;
import dev.rpctl.reconcile.Scope;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/** The options of {@code reconcile}, checked and turned into a request. */
final class ReconcileOptions {
    @Option(names = "--activity", paramLabel = "A", description = "Only this activity.")
    long activity;

    @Option(names = "--since", paramLabel = "DURATION", description = "Only rows changed (and keys deleted) within this long, e.g. 15m.")
    String since;

    @Option(names = "--users", paramLabel = "FROM-TO", description = "Only these users, e.g. 1-1000.")
    String users;

    @Option(names = "--side", defaultValue = "all", paramLabel = "a|b|all", completionCandidates = Candidates.Sides.class, description = "The sides to check (default: ${DEFAULT-VALUE}).")
    String side;

    @Option(names = "--dry-run", description = "Report the differences; write nothing.")
    boolean dryRun;

    @Option(names = "--repair-mode", defaultValue = "rewrite", paramLabel = "rewrite|invalidate", completionCandidates = Candidates.RepairModes.class,
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

    /** The request for the given sides (the names --side chose). */
    ReconcileService.Request request(List<String> sides) {
        return new ReconcileService.Request(scope(sides), dryRun, repairMode(), rate, chunk, resume, orphans);
    }

    private Scope scope(List<String> sides) {
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
        return new Scope(activity, since == null ? null : BaseCommand.duration("--since", since), from, to,
                sides);
    }

    private ReconcileService.RepairMode repairMode() {
        return switch (mode) {
            case "rewrite" -> ReconcileService.RepairMode.REWRITE;
            case "invalidate" -> ReconcileService.RepairMode.INVALIDATE;
            default -> throw RpctlException.usage("--repair-mode must be rewrite or invalidate, got \"" + mode + "\"");
        };
    }
}
