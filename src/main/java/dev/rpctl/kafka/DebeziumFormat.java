package dev.rpctl.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rpctl.protocol.ClaimRow;

import java.util.List;
import java.util.Locale;

/**
 * Debezium's change events (MySQL connector, JSON converter), with or without the schema
 * wrapper ({@code {"schema": ..., "payload": ...}}): {@code op} c (insert), r (snapshot read), u
 * (update), d (delete) with {@code before}, {@code after} and {@code source.table}. The Kafka
 * tombstone Debezium writes after a delete (a null value) and truncate or logical-message events
 * carry nothing to apply. A key change, which Debezium itself sends as a delete of the old key and
 * a create of the new one, is also read from a single update.
 */
public final class DebeziumFormat implements MessageFormat {
    private final String claimTable;
    private final ClaimColumns columns;

    public DebeziumFormat(String claimTable, String versionColumn) {
        this.claimTable = claimTable.toLowerCase(Locale.ROOT);
        this.columns = new ClaimColumns(versionColumn);
    }

    @Override
    public String name() {
        return "debezium";
    }

    @Override
    public List<Change> decode(byte[] value) {
        JsonNode root = ClaimColumns.message(value);
        if (root == null) {
            return List.of();
        }
        JsonNode m = root.has("payload") && root.has("schema") ? root.get("payload") : root;
        if (m == null || m.isNull()) {
            return List.of();
        }
        if (!m.isObject()) {
            throw new BadMessageException("the payload is not an object");
        }
        JsonNode source = m.get("source");
        if (source == null || !source.isObject()) {
            throw new BadMessageException("no \"source\" (not a Debezium change event)");
        }
        if (!RpctlFormat.Json.text(source, "table").toLowerCase(Locale.ROOT).equals(claimTable)) {
            return List.of();
        }
        String op = RpctlFormat.Json.text(m, "op");
        return switch (op) {
            case "c", "r" -> List.of(Change.row(columns.row(m.get("after"), "after")));
            case "d" -> {
                ClaimRow b = columns.row(m.get("before"), "before");
                yield List.of(Change.deleted(b.activityId(), b.userId(), b.version()));
            }
            case "u" -> {
                ClaimRow a = columns.row(m.get("after"), "after");
                JsonNode before = m.get("before");
                if (before == null || before.isNull()) {
                    yield List.of(Change.row(a));
                }
                yield Change.update(columns.row(before, "before"), a);
            }
            case "t", "m" -> List.of();
            default -> throw new BadMessageException("unknown op \"" + op + "\" (expected c, r, u, d, t or m)");
        };
    }
}
