package dev.rpctl.cli;

import dev.rpctl.warm.WarmService;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.Locale;

/** How a warm is shown: a table of the sides. */
final class WarmView {
    private WarmView() {
    }

    static void render(Output out, WarmService.Report r) {
        if (out.json()) {
            out.json(json(r));
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (WarmService.SideCounts s : r.sides()) {
            rows.add(List.of(s.side(), n(s.written()), n(s.kept()), n(s.undecodable())));
        }
        out.table(List.of("side", "written", "kept (newer there)", "undecodable"), rows);
        out.line(String.format(Locale.ROOT, "activity %d: %,d users (%,d claims, %,d placeholders%s) in %.1f s (%,.0f/s)",
                r.activityId(), r.users(), r.rows(), r.placeholders(),
                r.uncacheable() > 0 ? ", " + r.uncacheable() + " rows with a version outside the range, not cached" : "",
                r.seconds(), r.usersPerSecond()));
    }

    static void render(Output out, WarmService.BloomReport r) {
        if (out.json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("activity", r.activityId());
            m.put("bloom_bits", r.bits());
            m.put("bloom_hashes", r.hashes());
            m.put("claimers", r.claimers());
            m.put("sides", r.sides());
            m.put("duration_ms", Output.ms(r.seconds()));
            out.json(m);
            return;
        }
        out.line(String.format(Locale.ROOT, "activity %d: Bloom filter of %,d claimers ready on side %s (%,d bits, %d hashes, %.1f KiB) in %.1f s",
                r.activityId(), r.claimers(), String.join(", ", r.sides()), r.bits(), r.hashes(), r.bits() / 8192.0, r.seconds()));
    }

    /** The --json document of {@code warm} (docs/json.md). */
    static Map<String, Object> json(WarmService.Report r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("activity", r.activityId());
        m.put("users", r.users());
        m.put("rows", r.rows());
        m.put("placeholders", r.placeholders());
        m.put("uncacheable", r.uncacheable());
        m.put("duration_ms", Output.ms(r.seconds()));
        m.put("users_per_second", r.usersPerSecond());
        List<Map<String, Object>> sides = new ArrayList<>();
        for (WarmService.SideCounts s : r.sides()) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("side", s.side());
            sm.put("written", s.written());
            sm.put("kept", s.kept());
            sm.put("undecodable", s.undecodable());
            sides.add(sm);
        }
        m.put("sides", sides);
        return m;
    }

    private static String n(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }
}
