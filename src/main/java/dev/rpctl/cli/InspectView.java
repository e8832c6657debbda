package dev.rpctl.cli;

import dev.rpctl.inspect.InspectService;
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
}
