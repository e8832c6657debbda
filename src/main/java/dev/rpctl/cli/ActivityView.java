package dev.rpctl.cli;

import dev.rpctl.claim.Activity;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** How {@code activity create} and {@code activity show} show an activity: one field a row. */
final class ActivityView {
    private ActivityView() {
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
