package dev.rpctl.cli;

import dev.rpctl.inspect.InspectService;
import dev.rpctl.inspect.KeySurvey;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.ClaimRow;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The --json document of {@code inspect} (docs/json.md). */
final class InspectView {
    private static final Pattern SECONDS = Pattern.compile("(\\d+) s");

    private InspectView() {
    }

    static Map<String, Object> json(InspectService.Report r) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("user", r.userId());
        doc.put("consistent", r.consistent());
        doc.put("replica", r.replicaLag() != null);
        doc.put("replica_lag_ms", replicaLagMs(r.replicaLag()));
        doc.put("unreachable", r.unreachable());
        List<Map<String, Object>> keys = new ArrayList<>();
        for (InspectService.KeyView k : r.keys()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("activity", k.activityId());
            m.put("user", k.userId());
            m.put("key", k.key());
            m.put("consistent", k.consistent());
            m.put("primary", row(k.primary()));
            m.put("replica", row(k.replica()));
            List<Map<String, Object>> sides = new ArrayList<>();
            for (InspectService.SideView s : k.sides()) {
                sides.add(side(s));
            }
            m.put("sides", sides);
            keys.add(m);
        }
        doc.put("keys", keys);
        return doc;
    }

    static Map<String, Object> side(InspectService.SideView s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("side", s.side());
        m.put("verdict", Output.word(s.verdict()));
        m.put("fine", s.verdict().fine());
        m.put("kind", switch (s.kind()) {
            case "-" -> null;
            case "?" -> "undecodable";
            default -> s.kind();
        });
        m.put("version", s.version());
        m.put("ttl_ms", s.ttlMillis() >= 0 ? s.ttlMillis() : null);
        // -1: the entry never expires; -2 (no entry) and -3 (side unreachable): unknown
        m.put("expires", s.ttlMillis() >= 0 ? Boolean.TRUE : s.ttlMillis() == -1 ? Boolean.FALSE : null);
        m.put("raw", s.raw());
        m.put("detail", s.detail() == null || s.detail().isEmpty() ? null : s.detail());
        m.put("repaired", s.repaired());
        return m;
    }

    static Map<String, Object> row(ClaimRow c) {
        if (c == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", c.version());
        m.put("amount", c.amount());
        m.put("status", c.status());
        m.put("request_id", c.requestId().isEmpty() ? null : c.requestId());
        m.put("updated_at", Output.time(Instant.ofEpochMilli(c.updatedAtMillis())));
        return m;
    }

    private static Long replicaLagMs(String text) {
        if (text == null) {
            return null;
        }
        Matcher m = SECONDS.matcher(text);
        return m.matches() ? Long.parseLong(m.group(1)) * 1000 : null;
    }

    /** inspect --activity A without --user: one row a side. */
    static void survey(Output out, KeySurvey.Summary s) {
        if (out.json()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("activity", s.activityId());
            doc.put("primary_rows", s.primaryRows());
            doc.put("consistent", s.consistent());
            List<Map<String, Object>> sides = new ArrayList<>();
            for (KeySurvey.SideSummary x : s.sides()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("side", x.side());
                m.put("keys", x.keys());
                m.put("by_kind", x.byKind());
                m.put("orphans", x.orphans());
                m.put("orphan_examples", x.orphanExamples());
                m.put("ttl_min_ms", x.ttlMinMillis());
                m.put("ttl_max_ms", x.ttlMaxMillis());
                m.put("no_ttl", x.noTtl());
                m.put("unreachable", x.unreachable());
                sides.add(m);
            }
            doc.put("sides", sides);
            out.json(doc);
            return;
        }
        out.line("activity " + s.activityId() + ": " + s.primaryRows() + " claims on the primary; keys on each side by SCAN");
        List<List<String>> rows = new ArrayList<>();
        for (KeySurvey.SideSummary x : s.sides()) {
            if (x.unreachable() != null) {
                rows.add(List.of(x.side(), "@|bold,red unreachable|@"));
                continue;
            }
            rows.add(List.of(x.side(), Long.toString(x.keys()), n(x.byKind(), "row"), n(x.byKind(), "placeholder"),
                    n(x.byKind(), "tombstone"), n(x.byKind(), "lease"), n(x.byKind(), "undecodable"),
                    x.orphans() == 0 ? "0" : "@|bold,red " + x.orphans() + "|@",
                    x.ttlMinMillis() == null ? "-" : ttl(x.ttlMinMillis()) + " - " + ttl(x.ttlMaxMillis()),
                    Long.toString(x.noTtl())));
        }
        out.table(List.of("side", "keys", "rows", "placeholders", "tombstones", "leases", "undecodable", "orphans", "ttl", "no ttl"), rows);
        for (KeySurvey.SideSummary x : s.sides()) {
            for (String k : x.orphanExamples()) {
                out.line("  side " + x.side() + ": orphan " + k + " (a row entry the primary has no claim for)");
            }
        }
    }

    private static String n(Map<String, Long> m, String k) {
        return Long.toString(m.getOrDefault(k, 0L));
    }

    /** inspect --key: the entry on each side, decoded. */
    static void decoded(Output out, String key, List<KeySurvey.Decoded> all) {
        out.line("key " + key);
        List<List<String>> rows = new ArrayList<>();
        for (KeySurvey.Decoded d : all) {
            if (d.unreachable() != null) {
                rows.add(List.of(d.side(), "@|bold,red unreachable|@"));
                continue;
            }
            Entry e = d.entry();
            String kind = d.raw() == null ? "absent" : e == null ? "@|bold,red undecodable|@" : e.kind().label();
            rows.add(List.of(d.side(), kind, e == null ? "-" : Long.toString(e.version()),
                    e == null || e.kind() != Entry.Kind.ROW ? "-" : Long.toString(e.amount()),
                    e == null || e.kind() != Entry.Kind.ROW ? "-" : e.status(),
                    e == null || e.kind() != Entry.Kind.ROW || e.requestId().isEmpty() ? "-" : e.requestId(),
                    e == null || e.kind() != Entry.Kind.ROW ? "-" : Output.time(Instant.ofEpochMilli(e.updatedAtMillis())),
                    d.raw() == null ? "-" : ttl(d.pttlMillis()), d.raw() == null ? "-" : d.raw()));
        }
        out.table(List.of("side", "kind", "version", "amount", "status", "request", "updated", "ttl", "raw"), rows);
    }

    static Map<String, Object> decodedJson(String key, List<KeySurvey.Decoded> all, InspectService.Report report) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("key", key);
        List<Map<String, Object>> sides = new ArrayList<>();
        for (KeySurvey.Decoded d : all) {
            Entry e = d.entry();
            boolean row = e != null && e.kind() == Entry.Kind.ROW;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("side", d.side());
            m.put("kind", d.unreachable() != null ? null : d.raw() == null ? "absent" : e == null ? "undecodable" : e.kind().label());
            m.put("version", e == null || e.kind() == Entry.Kind.LEASE ? null : e.version());
            m.put("amount", row ? e.amount() : null);
            m.put("status", row ? e.status() : null);
            m.put("request_id", row && !e.requestId().isEmpty() ? e.requestId() : null);
            m.put("updated_at", row ? Output.time(Instant.ofEpochMilli(e.updatedAtMillis())) : null);
            m.put("ttl_ms", d.pttlMillis() >= 0 ? d.pttlMillis() : null);
            m.put("expires", d.pttlMillis() >= 0 ? Boolean.TRUE : d.pttlMillis() == -1 ? Boolean.FALSE : null);
            m.put("raw", d.raw());
            m.put("undecodable", d.undecodable());
            m.put("unreachable", d.unreachable());
            sides.add(m);
        }
        doc.put("sides", sides);
        doc.put("claim", report == null ? null : json(report));
        return doc;
    }

    /** inspect --key: the entry decoded on every side, then the user's verdicts for a claim key (report, or null). */
    static void key(Output out, String key, List<KeySurvey.Decoded> decoded, InspectService.Report report) {
        if (out.json()) {
            out.json(decodedJson(key, decoded, report));
            return;
        }
        decoded(out, key, decoded);
        if (report != null) {
            out.line("");
            table(out, report, 0);
        }
    }

    /** One user's keys, or its --json document; activity is the --activity given (0: none). */
    static void user(Output out, InspectService.Report report, long activity) {
        if (out.json()) {
            out.json(json(report));
        } else {
            table(out, report, activity);
        }
    }

    private static void table(Output out, InspectService.Report report, long activity) {
        long user = report.userId();
        if (report.keys().isEmpty()) {
            out.line("user " + user + " has no claims on the primary"
                    + (activity > 0 ? "" : "; give --activity to inspect one key even without a row"));
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (InspectService.KeyView k : report.keys()) {
            rows.add(List.of(Long.toString(k.activityId()), "primary", rowText(k.primary()), "", ""));
            if (report.replicaLag() != null) {
                rows.add(List.of(Long.toString(k.activityId()), "replica", rowText(k.replica()), "", "lag " + report.replicaLag()));
            }
            for (InspectService.SideView s : k.sides()) {
                String verdict = (s.verdict().fine() ? "@|green " : "@|bold,red ") + s.verdict().label() + "|@";
                String entry = s.kind() + (s.version() == null ? "" : " v" + s.version()) + " ttl " + ttl(s.ttlMillis());
                String detail = s.repaired() != null ? s.repaired() + "; " + s.detail() : s.detail();
                String bloom = k.bloom().getOrDefault(s.side(), "none");
                if (!bloom.equals("none")) {
                    detail = (detail.isEmpty() ? "" : detail + "; ") + "bloom: " + bloom;
                }
                rows.add(List.of(Long.toString(k.activityId()), "side " + s.side(), entry, verdict, detail));
            }
        }
        out.line("user " + user + " (" + report.keys().get(0).key().replaceAll(":\\d+:\\d+$", ":<activity>:" + user) + ")");
        out.table(List.of("activity", "source", "entry", "verdict", "detail"), rows);
    }

    private static String rowText(ClaimRow c) {
        return c == null ? "no row" : "row v" + c.version() + " amount " + c.amount() + " " + c.status()
                + (c.requestId().isEmpty() ? "" : " req " + c.requestId());
    }

    static String ttl(long ms) {
        if (ms == -1) {
            return "none";
        }
        if (ms < 0) {
            return "-";
        }
        if (ms < 10_000) {
            return ms + "ms";
        }
        long s = ms / 1000;
        return s < 3600 ? s + "s" : (s / 3600) + "h" + ((s % 3600) / 60) + "m";
    }
}
