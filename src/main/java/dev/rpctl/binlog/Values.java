package dev.rpctl.binlog;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Date;

/**
 * Column values as the connector hands them over with {@code DATE_AND_TIME_AS_LONG_MICRO} and
 * {@code CHAR_AND_BINARY_AS_BYTE_ARRAY}: integers as Integer/Long, strings as UTF-8 bytes,
 * DATETIME as microseconds since the epoch read as UTC (rpctl's sessions write UTC).
 */
public final class Values {
    private Values() {
    }

    public static Long asLong(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Number n) {
            return n instanceof BigDecimal bd ? bd.longValueExact() : n.longValue();
        }
        if (v instanceof byte[] b) {
            return Long.parseLong(new String(b, StandardCharsets.UTF_8).trim());
        }
        return Long.parseLong(v.toString().trim());
    }

    public static String asString(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof byte[] b) {
            return new String(b, StandardCharsets.UTF_8);
        }
        return v.toString();
    }

    /** Epoch milliseconds of a DATETIME/TIMESTAMP value. */
    public static Long asMillis(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Long micros) {
            return Math.floorDiv(micros, 1000L);
        }
        if (v instanceof Date d) {
            return d.getTime();
        }
        if (v instanceof Number n) {
            return n.longValue();
        }
        throw new IllegalArgumentException("not a date-time: " + v.getClass().getSimpleName());
    }
}
