package dev.rpctl.cli;

import dev.rpctl.claim.Activity;
import dev.rpctl.claim.ClaimStats;
import dev.rpctl.errors.RpctlException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;

@Command(name = "show", description = "Show an activity: its state (open, paused, closed, not started, ended, sold out), budget, paid and remaining;"
        + " what its claims cost over the last minutes (from every process that claimed), with a warning when they wait on budget-shard locks.")
final class ActivityShowCommand extends BaseCommand {
    @Option(names = "--activity", required = true, paramLabel = "ID", description = "Activity id.")
    long id;

    @Option(names = "--window", paramLabel = "DURATION", defaultValue = "5m",
            description = "How far back the claim figures go, in whole minutes of the server's clock (default ${DEFAULT-VALUE}).")
    String window;

    @Override
    public Integer call() {
        Duration w = duration("--window", window);
        if (w.isZero() || w.compareTo(Duration.ofDays(ClaimStats.KEPT_DAYS)) > 0) {
            throw RpctlException.usage("--window must be 1m to " + ClaimStats.KEPT_DAYS * 24 + "h (the claim figures are kept "
                    + ClaimStats.KEPT_DAYS + " days), got \"" + window + "\"");
        }
        Activity a = app().activities().require(id);
        ClaimStats stats = app().activities().claimStats(id, w);
        ActivityView.show(out(), a, stats, w);
        return 0;
    }
}
