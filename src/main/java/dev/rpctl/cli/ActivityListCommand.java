package dev.rpctl.cli;

import dev.rpctl.claim.Activity;
import dev.rpctl.errors.RpctlException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

@Command(name = "list", description = "The activities, newest first: state, budget, paid and remaining.")
final class ActivityListCommand extends BaseCommand {
    @Option(names = "--limit", defaultValue = "50", paramLabel = "N", description = "At most N (default: ${DEFAULT-VALUE}).")
    int limit;

    @Override
    public Integer call() {
        if (limit < 1 || limit > 100_000) {
            throw RpctlException.usage("--limit must be 1-100000, got " + limit);
        }
        List<Activity> activities = app().activities().list(limit);
        ActivityView.list(out(), activities);
        root().seen("--activity", activities.stream().map(Activity::id).toList());
        return 0;
    }
}
