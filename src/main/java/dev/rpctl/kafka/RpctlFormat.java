package dev.rpctl.kafka;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
        // written field by field: the publisher writes one message per change, and building a tree
        // for each cost its binlog reader about half its time
        ByteArrayBuilder out = new ByteArrayBuilder(512);
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("format", FORMAT);
            g.writeStringField("table", table);
            g.writeStringField("op", op);
            g.writeObjectFieldStart("key");
            g.writeNumberField("activity_id", r.activityId());
            g.writeNumberField("user_id", r.userId());
            g.writeEndObject();
            row(g, "before", before);
            row(g, "after", after);
            g.writeNumberField("version", after != null ? after.version() : before.version() + 1);
            position(g, at, atEnd);
            g.writeNumberField("commit_ms", commitMillis);
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    /** A heartbeat of {@code pipeline}, whose beat row was written at {@code beatMillis}. */
    public static byte[] heartbeat(String pipeline, long beatMillis, BinlogPosition at, boolean atEnd) {
        ByteArrayBuilder out = new ByteArrayBuilder(256);
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("format", FORMAT);
            g.writeStringField("op", "heartbeat");
            g.writeStringField("pipeline", pipeline);
            g.writeNumberField("beat_ms", beatMillis);
            position(g, at, atEnd);
            g.writeNumberField("commit_ms", beatMillis);
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    private static void row(JsonGenerator g, String field, ClaimRow r) throws IOException {
        if (r == null) {
            g.writeNullField(field);
            return;
        }
        g.writeObjectFieldStart(field);
        g.writeNumberField("activity_id", r.activityId());
        g.writeNumberField("user_id", r.userId());
        g.writeNumberField("amount", r.amount());
        g.writeStringField("status", r.status());
        g.writeStringField("request_id", r.requestId());
        g.writeNumberField("version", r.version());
        g.writeNumberField("updated_at_ms", r.updatedAtMillis());
        g.writeEndObject();
    }

    private static void position(JsonGenerator g, BinlogPosition at, boolean atEnd) throws IOException {
        g.writeObjectFieldStart("binlog");
        g.writeStringField("file", at.file());
        g.writeNumberField("position", at.position());
        g.writeStringField("gtid", at.gtid());
        g.writeStringField("at", atEnd ? "end" : "start");
        g.writeEndObject();
    }

    @Override
    public String name() {
        return "rpctl";
    }

    @Override
    public List<Change> decode(byte[] value) {
        if (value == null) {
            return List.of();
        }
        List<Change> plain = Streamed.decode(value, claimTable);
        return plain != null ? plain : decodeTree(value);
    }

    /** Any message, read as a tree: the reader of record, and the one whose errors name what is wrong. */
    List<Change> decodeTree(byte[] value) {
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
                yield Change.update(b, row(m, "after"));
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

    /**
     * The messages as the publisher writes them, read in one pass without a tree: an applier reads
     * every message, and building a tree for each cost its poll thread about two thirds of its time.
     * Anything not of that plain shape (a missing field, a number written as a string, an unknown
     * op, bad JSON) makes it answer null, and the message is read by {@link #decodeTree} instead,
     * which reads or refuses it as it always has; so the two never differ in what they accept.
     */
    static final class Streamed {
        private Streamed() {
        }

        /** The changes, or null when the message is not in the publisher's plain shape. */
        static List<Change> decode(byte[] value, String claimTable) {
            try (JsonParser p = JSON.getFactory().createParser(value)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    return null;
                }
                String op = null;
                String table = null;
                Long beat = null;
                ClaimRow before = null;
                ClaimRow after = null;
                JsonToken t;
                while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    t = p.nextToken();
                    switch (field) {
                        case "op" -> op = t == JsonToken.VALUE_STRING ? p.getText() : null;
                        case "table" -> table = t == JsonToken.VALUE_STRING ? p.getText() : null;
                        case "beat_ms" -> beat = t == JsonToken.VALUE_NUMBER_INT && fitsLong(p) ? p.getLongValue() : null;
                        case "before" -> before = t == JsonToken.START_OBJECT ? row(p) : null;
                        case "after" -> after = t == JsonToken.START_OBJECT ? row(p) : null;
                        default -> {
                        }
                    }
                    // past a value not read above (a row ends on its own closing brace)
                    p.skipChildren();
                }
                if (t != JsonToken.END_OBJECT || op == null) {
                    return null;
                }
                if (op.equals("heartbeat")) {
                    return beat == null ? null : List.of(Change.beat(beat));
                }
                if (table == null) {
                    return null;
                }
                if (!table.toLowerCase(Locale.ROOT).equals(claimTable)) {
                    return List.of();
                }
                return switch (op) {
                    case "insert" -> after == null ? null : List.of(Change.row(after));
                    case "delete" -> before == null ? null : List.of(Change.deleted(before.activityId(), before.userId(),
                            before.version()));
                    case "update" -> before == null || after == null ? null : Change.update(before, after);
                    default -> null;
                };
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        /** A row object with every field of its plain type; null (the rest of it skipped) otherwise. */
        private static ClaimRow row(JsonParser p) throws IOException {
            long activity = 0;
            long user = 0;
            long amount = 0;
            long version = 0;
            long updated = 0;
            String status = null;
            String request = null;
            int seen = 0;
            boolean plain = true;
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                t = p.nextToken();
                boolean number = t == JsonToken.VALUE_NUMBER_INT && fitsLong(p);
                switch (field) {
                    case "activity_id" -> { plain &= number; activity = number ? p.getLongValue() : 0; seen |= 1; }
                    case "user_id" -> { plain &= number; user = number ? p.getLongValue() : 0; seen |= 2; }
                    case "amount" -> { plain &= number; amount = number ? p.getLongValue() : 0; seen |= 4; }
                    case "version" -> { plain &= number; version = number ? p.getLongValue() : 0; seen |= 8; }
                    case "updated_at_ms" -> { plain &= number; updated = number ? p.getLongValue() : 0; seen |= 16; }
                    case "status" -> { plain &= t == JsonToken.VALUE_STRING; status = p.getText(); seen |= 32; }
                    case "request_id" -> { plain &= t == JsonToken.VALUE_STRING; request = p.getText(); seen |= 64; }
                    default -> {
                    }
                }
                p.skipChildren();
            }
            return plain && seen == 127 ? new ClaimRow(activity, user, amount, status, request, version, updated) : null;
        }

        private static boolean fitsLong(JsonParser p) throws IOException {
            JsonParser.NumberType n = p.getNumberType();
            return n == JsonParser.NumberType.INT || n == JsonParser.NumberType.LONG;
        }
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
            Long v = integer(n);
            if (v == null) {
                throw new BadMessageException("\"" + field + "\" is not an integer: " + n);
            }
            return v;
        }

        /** A JSON number or a string of digits as a long; null for anything else. */
        static Long integer(JsonNode n) {
            if (n.isIntegralNumber() && n.canConvertToLong()) {
                return n.asLong();
            }
            if (n.isTextual()) {
                try {
                    return Long.parseLong(n.asText().trim());
                } catch (NumberFormatException e) {
                    return null;
                }
            }
            return null;
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
