package dev.rpctl.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rpctl.protocol.ClaimRow;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Canal's flat messages ({@code canal.mq.flatMessage=true}): {@code type} INSERT, UPDATE or
 * DELETE, the rows in the array {@code data} (every value a string), and for an update the
 * previous values of the changed columns in {@code old}, one object per row of {@code data}.
 * {@code pkNames} names the table's key; the claim's key is always activity and user. DDL
 * ({@code isDdl}) and other types carry nothing to apply.
 */
public final class CanalFormat implements MessageFormat {
    private final String claimTable;
    private final ClaimColumns columns;

    public CanalFormat(String claimTable, String versionColumn) {
        this.claimTable = claimTable.toLowerCase(Locale.ROOT);
        this.columns = new ClaimColumns(versionColumn);
    }

    @Override
    public String name() {
        return "canal";
    }

    @Override
    public List<Change> decode(byte[] value) {
        JsonNode m = ClaimColumns.message(value);
        if (m == null || m.path("isDdl").asBoolean(false)) {
            return List.of();
        }
        JsonNode table = m.get("table");
        if (table == null || !table.asText().toLowerCase(Locale.ROOT).equals(claimTable)) {
            return List.of();
        }
        String type = RpctlFormat.Json.text(m, "type").toUpperCase(Locale.ROOT);
        if (!type.equals("INSERT") && !type.equals("UPDATE") && !type.equals("DELETE")) {
            return List.of();
        }
        JsonNode data = m.get("data");
        if (data == null || !data.isArray()) {
            throw new BadMessageException("no \"data\" array of rows");
        }
        JsonNode old = m.get("old");
        List<Change> out = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            String what = "data[" + i + "]";
            ClaimRow r = columns.row(data.get(i), what);
            switch (type) {
                case "INSERT" -> out.add(Change.row(r));
                case "DELETE" -> out.add(Change.deleted(r.activityId(), r.userId(), r.version()));
                default -> {
                    ClaimRow b = columns.before(data.get(i), old != null && old.isArray() && i < old.size() ? old.get(i) : null,
                            "old[" + i + "]");
                    out.addAll(b == null ? List.of(Change.row(r)) : Change.update(b, r));
                }
            }
        }
        return out;
    }
}
