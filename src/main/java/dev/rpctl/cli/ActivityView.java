package dev.rpctl.cli;

import dev.rpctl.claim.Activity;
import dev.rpctl.claim.ClaimStats;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** How {@code activity create} and {@code activity show} show an activity: one field a row. */
final class ActivityView {
    private ActivityView() {
    }

    static void render(Output out, Activity a) {
        Map<String, Object> m = fields(a);
        if (out.json()) {
            out.json(m);
            return;
        }
        List<List<String>> rows = m.entrySet().stream()
                .map(e -> List.of(e.getKey().replace('_', ' '), e.getValue() == null ? "-"
                        : e.getKey().equals("state") ? e.getValue().toString().replace('_', ' ') : e.getValue().toString()))
                .toList();
        out.table(List.of("field", "value"), rows);
    }

    /**
     * {@code activity show}: the activity, then what its claims cost over the last minutes (from
     * every process that claimed), with a warning when they waited on shard locks for a
     * noticeable share of their time; stats is null when they could not be read.
     */
    static void show(Output out, Activity a, ClaimStats stats, java.time.Duration window) {
        Map<String, Object> m = fields(a);
        String warning = stats != null && stats.waitsOnShards() ? shardWarning(a, stats) : null;
        if (out.json()) {
            m.put("claim_stats", stats == null ? null : statsJson(stats, warning));
            out.json(m);
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (Map.Entry<String, Object> e : m.entrySet()) {
            rows.add(List.of(e.getKey().replace('_', ' '), e.getValue() == null ? "-"
                    : e.getKey().equals("state") ? e.getValue().toString().replace('_', ' ') : e.getValue().toString()));
        }
        String last = "last " + minutes(stats == null ? window : stats.window());
        if (stats == null) {
            rows.add(List.of("claims (" + last + ")", "- (not readable: see the warning above)"));
        } else {
            rows.add(List.of("claims (" + last + ")", String.format("%,d", stats.claims())));
            if (stats.claims() > 0) {
                rows.add(List.of("claims a group", String.format("%.1f", stats.claimsPerGroup())));
                rows.add(List.of("claim time, mean", String.format("%.2f ms", stats.meanClaimMillis())));
                rows.add(List.of("shard lock wait", String.format("%.1f%% of the claims' time", 100 * stats.shardWaitShare())));
            }
        }
        out.table(List.of("field", "value"), rows);
        if (warning != null) {
            out.line("@|yellow " + warning + "|@");
        }
    }

    /** The warning of an activity whose claims wait on its budget-shard locks. */
    static String shardWarning(Activity a, ClaimStats s) {
        return String.format("activity %d: claims waited on budget-shard locks for %.0f%% of their time over the last %s"
                        + " (%d shard%s, %.1f claims a group); an activity keeps its shards: create the next one with more"
                        + " (activity create --shards N, or claim.budget-shards for every new activity; README 'Budget shards')",
                a.id(), 100 * s.shardWaitShare(), minutes(s.window()), a.shards(), a.shards() == 1 ? "" : "s", s.claimsPerGroup());
    }

    private static String minutes(java.time.Duration d) {
        long m = Math.max(1, (d.toSeconds() + 59) / 60);
        return m == 1 ? "minute" : m + " minutes";
    }

    private static Map<String, Object> statsJson(ClaimStats s, String warning) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("window_ms", s.window().toMillis());
        m.put("claims", s.claims());
        m.put("groups", s.groups());
        m.put("claims_per_group", s.claimsPerGroup());
        m.put("claim_time_ms", s.claimMicros() / 1000.0);
        m.put("timed_claim_time_ms", s.timedClaimMicros() / 1000.0);
        m.put("shard_wait_ms", s.shardWaitMicros() / 1000.0);
        m.put("shard_wait_share", s.shardWaitShare());
        m.put("warning", warning);
        return m;
    }

    static void list(Output out, List<Activity> all) {
        if (out.json()) {
            out.json(Map.of("activities", all.stream().map(ActivityView::fields).toList()));
            return;
        }
        if (all.isEmpty()) {
            out.line("no activities; create one with 'rpctl activity create'");
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        Instant now = Instant.now();
        for (Activity a : all) {
            rows.add(List.of(Long.toString(a.id()), a.name().isEmpty() ? "-" : a.name(), state(a.state(now)),
                    a.allocation().label(), a.paidCount() + " / " + a.totalCount(), a.paidAmount() + " / " + a.totalAmount(),
                    a.startsAt() == null ? "-" : Output.time(a.startsAt()), a.endsAt() == null ? "-" : Output.time(a.endsAt())));
        }
        out.table(List.of("activity", "name", "state", "allocation", "paid / count", "paid / amount", "starts", "ends"), rows);
    }

    private static String state(Activity.State s) {
        String word = Output.word(s).replace('_', ' ');
        return s == Activity.State.OPEN ? "@|green " + word + "|@" : "@|yellow " + word + "|@";
    }

    private static Map<String, Object> fields(Activity a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("activity", a.id());
        m.put("name", a.name());
        m.put("status", a.status());
        m.put("state", Output.word(a.state(Instant.now())));
        m.put("allocation", a.allocation().label());
        m.put("total_count", a.totalCount());
        m.put("total_amount", a.totalAmount());
        m.put("paid_count", a.paidCount());
        m.put("paid_amount", a.paidAmount());
        m.put("remaining_count", a.remainingCount());
        m.put("remaining_amount", a.remainingAmount());
        m.put("starts_at", Output.time(a.startsAt()));
        m.put("ends_at", Output.time(a.endsAt()));
        m.put("budget_shards", a.shards());
        m.put("version", a.version());
        return m;
    }
}
