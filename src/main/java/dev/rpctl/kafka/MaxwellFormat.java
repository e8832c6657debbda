package dev.rpctl.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rpctl.protocol.ClaimRow;

import java.util.List;
import java.util.Locale;

/**
 * Maxwell's row messages: {@code type} insert, update, delete (and bootstrap-insert), the row in
 * {@code data}, and for an update the previous values of the changed columns in {@code old}. A
 * transaction is several messages sharing an {@code xid}; each is applied as it comes (versions
 * order them). Bootstrap markers and DDL messages carry nothing to apply.
 */
public final class MaxwellFormat implements MessageFormat {
    private final String claimTable;
    private final ClaimColumns columns;

    public MaxwellFormat(String claimTable, String versionColumn) {
        this.claimTable = claimTable.toLowerCase(Locale.ROOT);
        this.columns = new ClaimColumns(versionColumn);
    }

    @Override
    public List<Change> decode(byte[] value) {
        if (value == null || value.length == 0) {
            return List.of();
        }
        JsonNode m = RpctlFormat.Json.parse(value);
        String type = RpctlFormat.Json.text(m, "type");
        if (type.startsWith("table-") || type.startsWith("database-") || type.equals("bootstrap-start")
                || type.equals("bootstrap-complete")) {
            return List.of();
        }
        JsonNode table = m.get("table");
        if (table == null || !table.asText().toLowerCase(Locale.ROOT).equals(claimTable)) {
            return List.of();
        }
        return switch (type) {
            case "insert", "bootstrap-insert" -> List.of(Change.row(columns.row(m.get("data"), "data")));
            case "delete" -> {
                ClaimRow b = columns.row(m.get("data"), "data");
                yield List.of(Change.deleted(b.activityId(), b.userId(), b.version()));
            }
            case "update" -> {
                JsonNode data = m.get("data");
                ClaimRow a = columns.row(data, "data");
                JsonNode old = m.get("old");
                if (old == null || !old.isObject() || !data.isObject()) {
                    yield List.of(Change.row(a));
                }
                // the row before: data with the changed columns' old values
                ObjectNode before = ((ObjectNode) data).deepCopy();
                before.setAll((ObjectNode) old);
                ClaimRow b = columns.row(before, "old");
                yield b.activityId() == a.activityId() && b.userId() == a.userId() ? List.of(Change.row(a))
                        : List.of(Change.deleted(b.activityId(), b.userId(), b.version()), Change.row(a));
            }
            default -> throw new BadMessageException("unknown type \"" + type + "\" (expected insert, update or delete)");
        };
    }
}
