package dev.rpctl.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rpctl.protocol.ClaimRow;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Locale;

/**
 * A claim row out of a change stream's row object (column name to value), as Debezium, Maxwell
 * and Canal write it: integers as JSON numbers or strings of digits (Canal writes every value as a
 * string), {@code updated_at} as epoch milliseconds (Debezium's {@code io.debezium.time.Timestamp}
 * of a DATETIME(3)), epoch microseconds ({@code MicroTimestamp}), an ISO-8601 instant
 * ({@code ZonedTimestamp}), or {@code yyyy-MM-dd HH:mm:ss[.fff]} read as UTC (Maxwell, Canal).
 */
final class ClaimColumns {
    /** Epoch values above this are microseconds: in milliseconds it is the year 5138. */
    private static final long MICROS_FROM = 100_000_000_000_000L;
    private static final DateTimeFormatter SQL_DATETIME = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true).optionalEnd()
            .toFormatter(Locale.ROOT);

    private final String versionColumn;

    ClaimColumns(String versionColumn) {
        this.versionColumn = versionColumn.toLowerCase(Locale.ROOT);
    }

    /** The row in {@code row}; throws {@link BadMessageException} naming the column that is missing or wrong. */
    /**
     * The row before an update as Maxwell and Canal give it: the row after ({@code data}) with the
     * changed columns' old values ({@code old}) laid over it; null when there is no {@code old} object.
     */
    ClaimRow before(JsonNode data, JsonNode old, String what) {
        if (old == null || !old.isObject() || data == null || !data.isObject()) {
            return null;
        }
        ObjectNode before = ((ObjectNode) data).deepCopy();
        before.setAll((ObjectNode) old);
        return row(before, what);
    }

    /** A message's JSON object; null for an empty value (a Kafka tombstone, which carries nothing). */
    static JsonNode message(byte[] value) {
        return value == null || value.length == 0 ? null : RpctlFormat.Json.parse(value);
    }

    ClaimRow row(JsonNode row, String what) {
        if (row == null || !row.isObject()) {
            throw new BadMessageException("no " + what + " row");
        }
        return new ClaimRow(number(row, "activity_id", what), number(row, "user_id", what), number(row, "amount", what),
                text(row, "status"), text(row, "request_id"), number(row, versionColumn, what), millis(row.get("updated_at"), what));
    }

    private static long number(JsonNode row, String column, String what) {
        JsonNode n = field(row, column);
        if (n == null || n.isNull()) {
            throw new BadMessageException("the " + what + " row has no " + column);
        }
        Long v = RpctlFormat.Json.integer(n);
        if (v == null) {
            throw new BadMessageException("the " + what + " row's " + column + " is not an integer: " + n);
        }
        return v;
    }

    private static String text(JsonNode row, String column) {
        JsonNode n = field(row, column);
        return n == null || n.isNull() ? "" : n.asText();
    }

    /** A column by name, whatever the case the stream wrote it in. */
    private static JsonNode field(JsonNode row, String column) {
        JsonNode n = row.get(column);
        if (n != null) {
            return n;
        }
        for (var it = row.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (name.equalsIgnoreCase(column)) {
                return row.get(name);
            }
        }
        return null;
    }

    private static long millis(JsonNode n, String what) {
        if (n == null || n.isNull()) {
            return 0;
        }
        if (n.isIntegralNumber()) {
            return epoch(n.asLong());
        }
        String s = n.asText().trim();
        try {
            if (!s.isEmpty() && s.chars().allMatch(Character::isDigit)) {
                return epoch(Long.parseLong(s));
            }
            if (s.contains("T")) {
                return s.endsWith("Z") ? Instant.parse(s).toEpochMilli() : OffsetDateTime.parse(s).toInstant().toEpochMilli();
            }
            return LocalDateTime.parse(s, SQL_DATETIME).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new BadMessageException("the " + what + " row's updated_at is not a time: " + n);
        }
    }

    private static long epoch(long v) {
        return v >= MICROS_FROM ? v / 1000 : v;
    }
}
