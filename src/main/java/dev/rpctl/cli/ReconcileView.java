package dev.rpctl.cli;

import dev.rpctl.inspect.InspectService.Verdict;
import dev.rpctl.reconcile.ReconcileReport;
import dev.rpctl.reconcile.ReconcileReport.SideCounts;
import dev.rpctl.reconcile.ReconcileService;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.Locale;

/** How a reconcile is shown: one table of the sides. */
final class ReconcileView {
    private ReconcileView() {
    }

    static void render(Output out, ReconcileReport r) {
        if (out.json()) {
            out.json(json(r));
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (SideCounts s : r.sides()) {
            rows.add(List.of(s.side(), n(s.checked()), n(s.count(Verdict.CONSISTENT) + s.count(Verdict.MISSING)
                    + s.count(Verdict.FILLING)), n(s.count(Verdict.MISSING)), n(s.count(Verdict.STALE)),
                    n(s.count(Verdict.AHEAD_OF_DB)), n(s.count(Verdict.PLACEHOLDER_BUT_ROW_EXISTS)),
                    n(s.count(Verdict.UNDECODABLE)), n(s.count(Verdict.LEASE_STUCK)), n(s.changed()),
                    r.dryRun() ? "-" : n(s.repaired()), n(s.bloomMissing()), n(s.orphans()), percent(s.consistency()),
                    nines(s.nines())));
        }
        out.table(List.of("side", "checked", "fine", "missing", "stale", "ahead-of-db", "placeholder-but-row",
                "undecodable", "lease-stuck", "changed", "repaired", "not-in-bloom", "orphans", "consistency", "nines"), rows);
        out.line(String.format(Locale.ROOT, "%s%,d keys in %.1f s (%,.0f/s)%s; %s", r.dryRun() ? "dry run: " : "",
                r.keysChecked(), r.seconds(), r.rowsPerSecond(), r.interrupted() ? ", interrupted" : "", r.scope()));
    }

    /** The --json document of {@code reconcile} (docs/json.md). */
    static Map<String, Object> json(ReconcileReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scope", r.scope());
        m.put("dry_run", r.dryRun());
        m.put("interrupted", r.interrupted());
        m.put("completed", r.completed());
        m.put("consistent", r.consistent());
        m.put("rows_scanned", r.rowsScanned());
        m.put("keys_checked", r.keysChecked());
        m.put("duration_ms", Output.ms(r.seconds()));
        m.put("keys_per_second", r.rowsPerSecond());
        List<Map<String, Object>> sides = new ArrayList<>();
        for (SideCounts s : r.sides()) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("side", s.side());
            sm.put("checked", s.checked());
            Map<String, Long> verdicts = new LinkedHashMap<>();
            for (Verdict v : Verdict.values()) {
                if (v != Verdict.UNREACHABLE) {
                    verdicts.put(Output.word(v), s.count(v));
                }
            }
            sm.put("verdicts", verdicts);
            sm.put("differences", s.differences());
            sm.put("changed", s.changed());
            sm.put("repaired", r.dryRun() ? null : s.repaired());
            sm.put("repair_skipped", r.dryRun() ? null : s.repairSkipped());
            sm.put("bloom_missing", s.bloomMissing());
            sm.put("bloom_added", r.dryRun() ? null : s.bloomAdded());
            sm.put("orphans", s.orphans());
            sm.put("orphans_repaired", r.dryRun() ? null : s.orphansRepaired());
            sm.put("consistency", s.consistency());
            // infinite when nothing differed, which JSON cannot hold
            sm.put("nines", Double.isInfinite(s.nines()) ? null : s.nines());
            sides.add(sm);
        }
        m.put("sides", sides);
        return m;
    }

    private static String n(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    private static String percent(double f) {
        return String.format(Locale.ROOT, "%.4f%%", f * 100);
    }

    private static String nines(double n) {
        return Double.isInfinite(n) ? "all" : String.format(Locale.ROOT, "%.1f", n);
    }
}
