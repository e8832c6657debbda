package dev.rpctl.cli;

import dev.rpctl.claim.Activity;
import dev.rpctl.claim.ActivityService;
import dev.rpctl.claim.Allocation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "activity", mixinStandardHelpOptions = true, description = "Create and show activities and their budgets.",
        subcommands = {ActivityCommand.Create.class, ActivityCommand.Show.class})
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
            int s = shards != null ? shards : root().config().claim().budgetShards();
            ActivityService.Created c = app().activities().create(
                    new ActivityService.NewActivity(id, name, count, amount, allocation, startsAt, endsAt, s));
            if (!out().json()) {
                out().err().println(c.existed() ? "activity " + id + " exists with this budget; unchanged" : "activity " + id + " created");
                out().err().flush();
            }
            render(out(), c.activity());
            return 0;
        }
    }

    @Command(name = "show", description = "Show an activity: budget, paid and remaining.")
    static final class Show extends BaseCommand {
        @Option(names = "--activity", required = true, paramLabel = "ID", description = "Activity id.")
        long id;

        @Override
        public Integer call() {
            render(out(), app().activities().require(id));
            return 0;
        }
    }

    static void render(Output out, Activity a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("activity", a.id());
        m.put("name", a.name());
        m.put("status", a.status());
        m.put("allocation", a.allocation().label());
        m.put("total_count", a.totalCount());
        m.put("total_amount", a.totalAmount());
        m.put("paid_count", a.paidCount());
        m.put("paid_amount", a.paidAmount());
        m.put("remaining_count", a.remainingCount());
        m.put("remaining_amount", a.remainingAmount());
        m.put("starts_at", a.startsAt() == null ? null : a.startsAt().toString());
        m.put("ends_at", a.endsAt() == null ? null : a.endsAt().toString());
        m.put("budget_shards", a.shards());
        m.put("version", a.version());
        if (out.json()) {
            out.json(m);
            return;
        }
        List<List<String>> rows = m.entrySet().stream()
                .map(e -> List.of(e.getKey().replace('_', ' '), e.getValue() == null ? "-" : e.getValue().toString()))
                .toList();
        out.table(List.of("field", "value"), rows);
    }
}
