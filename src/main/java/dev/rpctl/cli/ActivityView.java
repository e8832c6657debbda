package dev.rpctl.cli;

import dev.rpctl.claim.Activity;

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
