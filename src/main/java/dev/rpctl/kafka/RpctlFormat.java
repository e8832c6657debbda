package dev.rpctl.kafka;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.protocol.ClaimRow;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * rpctl's own message format, written by the publisher ({@code sync-daemon --sink kafka}) and
 * documented in the README ("Kafka mode: the message format"). One message per row change, keyed
 * {@code <activity>:<user>}; a change of an update's key is published as a delete of the old key
 * and an insert of the new one, so each key's changes stay in its own partition's order:
 * <pre>
 * {"format":"rpctl/1","table":"rp_claim","op":"update","key":{"activity_id":7,"user_id":42},
 *  "before":{...row...},"after":{...row...},"version":4,
 *  "binlog":{"file":"mysql-bin.000003","position":1234,"gtid":"0-1-99","at":"end"},"commit_ms":1764324000123}
 * </pre>
 * A row is {@code activity_id, user_id, amount, status, request_id, version, updated_at_ms};
 * {@code version} is what the change leaves the key at: the row's version, for a delete the
 * deleted row's version + 1 (its tombstone's). A heartbeat goes to every partition:
 * {@code {"format":"rpctl/1","op":"heartbeat","pipeline":"kafka","beat_ms":...,"binlog":{...},"commit_ms":...}}.
 */
public final class RpctlFormat implements MessageFormat {
    public static final String FORMAT = "rpctl/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String claimTable;

    /** @param claimTable the mapped claim table; messages of other tables are passed over */
    public RpctlFormat(String claimTable) {
        this.claimTable = claimTable.toLowerCase(Locale.ROOT);
    }

    /** The message key of a claim: its partition keeps the claim's changes in order. */
    public static String key(long activityId, long userId) {
        return activityId + ":" + userId;
    }

    /**
     * A row change: op insert (before null), update, or delete (after null), of the transaction
     * ending at {@code at} ({@code atEnd}) or starting there (a transaction sent as it is read).
     */
    public static byte[] change(String table, String op, ClaimRow before, ClaimRow after, BinlogPosition at, boolean atEnd,
                                long commitMillis) {
        ClaimRow r = after != null ? after : before;
        ObjectNode m = JSON.createObjectNode();
        m.put("format", FORMAT);
        m.put("table", table);
        m.put("op", op);
        ObjectNode key = m.putObject("key");
        key.put("activity_id", r.activityId());
        key.put("user_id", r.userId());
        row(m, "before", before);
        row(m, "after", after);
        m.put("version", after != null ? after.version() : before.version() + 1);
        position(m, at, atEnd);
        m.put("commit_ms", commitMillis);
        return bytes(m);
    }

    /** A heartbeat of {@code pipeline}, whose beat row was written at {@code beatMillis}. */
    public static byte[] heartbeat(String pipeline, long beatMillis, BinlogPosition at, boolean atEnd) {
        ObjectNode m = JSON.createObjectNode();
        m.put("format", FORMAT);
        m.put("op", "heartbeat");
        m.put("pipeline", pipeline);
        m.put("beat_ms", beatMillis);
        position(m, at, atEnd);
        m.put("commit_ms", beatMillis);
        return bytes(m);
    }

    private static void row(ObjectNode m, String field, ClaimRow r) {
        if (r == null) {
            m.putNull(field);
            return;
        }
        ObjectNode o = m.putObject(field);
        o.put("activity_id", r.activityId());
        o.put("user_id", r.userId());
        o.put("amount", r.amount());
        o.put("status", r.status());
        o.put("request_id", r.requestId());
        o.put("version", r.version());
        o.put("updated_at_ms", r.updatedAtMillis());
    }

    private static void position(ObjectNode m, BinlogPosition at, boolean atEnd) {
        ObjectNode b = m.putObject("binlog");
        b.put("file", at.file());
        b.put("position", at.position());
        b.put("gtid", at.gtid());
        b.put("at", atEnd ? "end" : "start");
    }

    private static byte[] bytes(ObjectNode m) {
        try {
            return JSON.writeValueAsBytes(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public List<Change> decode(byte[] value) {
        if (value == null) {
            return List.of();
        }
        JsonNode m = Json.parse(value);
        String op = Json.text(m, "op");
        if (op.equals("heartbeat")) {
            return List.of(Change.beat(Json.number(m, "beat_ms")));
        }
        if (!Json.text(m, "table").toLowerCase(Locale.ROOT).equals(claimTable)) {
            return List.of();
        }
        return switch (op) {
            case "insert" -> List.of(Change.row(row(m, "after")));
            case "delete" -> {
                ClaimRow b = row(m, "before");
                yield List.of(Change.deleted(b.activityId(), b.userId(), b.version()));
            }
            case "update" -> {
                ClaimRow b = row(m, "before");
                ClaimRow a = row(m, "after");
                yield b.activityId() == a.activityId() && b.userId() == a.userId()
                        ? List.of(Change.row(a))
                        : List.of(Change.deleted(b.activityId(), b.userId(), b.version()), Change.row(a));
            }
            default -> throw new BadMessageException("unknown op \"" + op + "\" (expected insert, update, delete or heartbeat)");
        };
    }

    private static ClaimRow row(JsonNode m, String field) {
        JsonNode r = m.get(field);
        if (r == null || !r.isObject()) {
            throw new BadMessageException("no \"" + field + "\" row");
        }
        return new ClaimRow(Json.number(r, "activity_id"), Json.number(r, "user_id"), Json.number(r, "amount"),
                Json.textOrEmpty(r, "status"), Json.textOrEmpty(r, "request_id"), Json.number(r, "version"),
                r.path("updated_at_ms").asLong(0));
    }

    /** Reading JSON fields, each failure a {@link BadMessageException} naming the field. */
    static final class Json {
        private Json() {
        }

        static JsonNode parse(byte[] value) {
            try {
                JsonNode n = JSON.readTree(value);
                if (n == null || !n.isObject()) {
                    throw new BadMessageException("not a JSON object: " + preview(value));
                }
                return n;
            } catch (IOException e) {
                throw new BadMessageException("not JSON (" + firstLine(e) + "): " + preview(value));
            }
        }

        static String text(JsonNode o, String field) {
            JsonNode n = o.get(field);
            if (n == null || n.isNull() || !n.isValueNode()) {
                throw new BadMessageException("no \"" + field + "\"");
            }
            return n.asText();
        }

        static String textOrEmpty(JsonNode o, String field) {
            JsonNode n = o.get(field);
            return n == null || n.isNull() ? "" : n.asText();
        }

        /** An integer field, as a JSON number or a string of digits (Maxwell and Canal write strings). */
        static long number(JsonNode o, String field) {
            JsonNode n = o.get(field);
            if (n == null || n.isNull()) {
                throw new BadMessageException("no \"" + field + "\"");
            }
            if (n.isIntegralNumber() && n.canConvertToLong()) {
                return n.asLong();
            }
            if (n.isTextual()) {
                try {
                    return Long.parseLong(n.asText().trim());
                } catch (NumberFormatException e) {
                    // reported below
                }
            }
            throw new BadMessageException("\"" + field + "\" is not an integer: " + n);
        }

        private static String firstLine(IOException e) {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            int nl = m.indexOf('\n');
            return nl > 0 ? m.substring(0, nl) : m;
        }

        static String preview(byte[] value) {
            String s = new String(value, StandardCharsets.UTF_8);
            return s.length() > 80 ? s.substring(0, 80) + "..." : s;
        }
    }
}
