package dev.rpctl.cli;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.claim.ActivityService;
import dev.rpctl.claim.Allocation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Instant;

@Command(name = "create", description = "Create an activity with its budget (unchanged if it exists with the same budget).")
final class ActivityCreateCommand extends BaseCommand {
    @Option(names = "--activity", required = true, paramLabel = "ID", description = "Activity id.")
    long id;
    @Option(names = "--count", required = true, paramLabel = "N", description = "Number of packets.")
    int count;
    @Option(names = "--amount", required = true, paramLabel = "CENTS", description = "Total amount in cents.")
    long amount;
    @Option(names = "--allocation", defaultValue = "fixed", paramLabel = "fixed|random", completionCandidates = Candidates.Allocations.class,
            description = "fixed: amount/count each; random: double-average draw, every remaining claim payable (default: ${DEFAULT-VALUE}).")
    Allocation allocation;
    @Option(names = "--name", defaultValue = "", description = "A label.")
    String name;
    @Option(names = "--starts", paramLabel = "INSTANT", description = "Opens at (ISO-8601, e.g. 2026-12-01T00:00:00Z).")
    Instant startsAt;
    @Option(names = "--ends", paramLabel = "INSTANT", description = "Closes at (ISO-8601).")
    Instant endsAt;
    @Option(names = "--shards", paramLabel = "N",
            description = "Budget shards claims spread over (default: claim.budget-shards).")
    Integer shards;

    @Override
    public Integer call() {
        if (shards != null && (shards < 1 || shards > ActivityService.SHARDS_MAX)) {
            throw RpctlException.usage("--shards must be 1-" + ActivityService.SHARDS_MAX + ", got " + shards);
        }
        int s = shards != null ? shards : 0;
        ActivityService.Created c = app().activities().create(
                new ActivityService.NewActivity(id, name, count, amount, allocation, startsAt, endsAt, s));
        if (!out().json()) {
            out().err().println(c.existed() ? "activity " + id + " exists with this budget; unchanged" : "activity " + id + " created");
            out().err().flush();
        }
        ActivityView.render(out(), c.activity());
        return 0;
    }
}
