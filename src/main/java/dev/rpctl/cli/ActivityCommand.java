package dev.rpctl.cli;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.claim.ActivityService;
import dev.rpctl.claim.Allocation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Instant;

@Command(name = "activity", mixinStandardHelpOptions = true, description = "Create and show activities and their budgets.",
        subcommands = {ActivityCommand.Create.class, ActivityCommand.Show.class, ActivityCommand.ListActivities.class,
                ActivityCommand.Pause.class, ActivityCommand.Resume.class, ActivityCommand.Close.class, ActivityCommand.Extend.class})
final class ActivityCommand {

    @Command(name = "create", description = "Create an activity with its budget (unchanged if it exists with the same budget).")
    static final class Create extends BaseCommand {
        @Option(names = "--activity", required = true, paramLabel = "ID", description = "Activity id.")
        long id;
        @Option(names = "--count", required = true, paramLabel = "N", description = "Number of packets.")
        int count;
        @Option(names = "--amount", required = true, paramLabel = "CENTS", description = "Total amount in cents.")
        long amount;
        @Option(names = "--allocation", defaultValue = "fixed", paramLabel = "fixed|random",
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

    @Command(name = "list", description = "The activities, newest first: state, budget, paid and remaining.")
    static final class ListActivities extends BaseCommand {
        @Option(names = "--limit", defaultValue = "50", paramLabel = "N", description = "At most N (default: ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() {
            if (limit < 1 || limit > 100_000) {
                throw RpctlException.usage("--limit must be 1-100000, got " + limit);
            }
            ActivityView.list(out(), app().activities().list(limit));
            return 0;
        }
    }

    /** pause, resume and close: one status change each. */
    abstract static class StatusChange extends BaseCommand {
        @Option(names = "--activity", required = true, paramLabel = "ID", description = "Activity id.")
        long id;

        abstract String status();

        @Override
        public Integer call() {
            ActivityService.Changed c = app().activities().setStatus(id, status());
            changed(this, c);
            return 0;
        }
    }

    static void changed(BaseCommand cmd, ActivityService.Changed c) {
        if (!cmd.out().json()) {
            String done = switch (cmd.spec.name()) {
                case "pause" -> "paused";
                case "resume" -> "resumed";
                case "close" -> "closed";
                default -> "extended";
            };
            cmd.out().err().println("activity " + c.activity().id() + " " + (c.changed() ? done : "unchanged"));
            cmd.out().err().flush();
        }
        ActivityView.render(cmd.out(), c.activity());
    }

    @Command(name = "pause", description = "Pause an activity: claims are refused until 'activity resume'.")
    static final class Pause extends StatusChange {
        @Override
        String status() {
            return "paused";
        }
    }

    @Command(name = "resume", description = "Resume a paused activity.")
    static final class Resume extends StatusChange {
        @Override
        String status() {
            return "open";
        }
    }

    @Command(name = "close", description = "Close an activity for good: claims are refused from now on.")
    static final class Close extends StatusChange {
        @Override
        String status() {
            return "closed";
        }
    }

    @Command(name = "extend", description = "Move an activity's end.")
    static final class Extend extends BaseCommand {
        @Option(names = "--activity", required = true, paramLabel = "ID", description = "Activity id.")
        long id;
        @Option(names = "--ends", required = true, paramLabel = "INSTANT", description = "Closes at (ISO-8601, e.g. 2026-12-01T00:00:00Z).")
        Instant endsAt;

        @Override
        public Integer call() {
            changed(this, app().activities().extend(id, endsAt));
            return 0;
        }
    }

    @Command(name = "show", description = "Show an activity: its state (open, paused, closed, not started, ended, sold out), budget, paid and remaining.")
    static final class Show extends BaseCommand {
        @Option(names = "--activity", required = true, paramLabel = "ID", description = "Activity id.")
        long id;

        @Override
        public Integer call() {
            ActivityView.render(out(), app().activities().require(id));
            return 0;
        }
    }
}
