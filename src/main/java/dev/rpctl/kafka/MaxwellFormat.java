package dev.rpctl.kafka;

import com.fasterxml.jackson.databind.JsonNode;
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
    public String name() {
        return "maxwell";
    }

    @Override
    public List<Change> decode(byte[] value) {
        JsonNode m = ClaimColumns.message(value);
        if (m == null) {
            return List.of();
        }
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
                ClaimRow a = columns.row(m.get("data"), "data");
                ClaimRow b = columns.before(m.get("data"), m.get("old"), "old");
                yield b == null ? List.of(Change.row(a)) : Change.update(b, a);
            }
            default -> throw new BadMessageException("unknown type \"" + type + "\" (expected insert, update or delete)");
        };
    }
}
