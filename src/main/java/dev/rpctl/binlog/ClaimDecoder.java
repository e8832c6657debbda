package dev.rpctl.binlog;

import dev.rpctl.protocol.ClaimRow;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads a claim row out of a row image of the claim table. Every mapped column must be in the
 * image: one the image left out is not a NULL, and guessing it would put a wrong entry in the
 * caches. Not thread-safe: one decoder per binlog reader.
 */
public final class ClaimDecoder {
    private static final int ACTIVITY = 0, USER = 1, AMOUNT = 2, STATUS = 3, REQUEST = 4, VERSION = 5, UPDATED = 6;

    /** A row image that lacks columns a claim is made of. */
    public static final class IncompleteRowException extends IllegalArgumentException {
        IncompleteRowException(String message) {
            super(message);
        }
    }

    private final String[] names;
    /** The column array {@link #at} was found in: a table shape, checked by identity. */
    private String[] indexed;
    private int[] at;

    /** @param versionColumn the mapped version column's name */
    public ClaimDecoder(String versionColumn) {
        this.names = new String[] {"activity_id", "user_id", "amount", "status", "request_id",
                versionColumn.toLowerCase(Locale.ROOT), "updated_at"};
    }

    /** The row before an update or delete. */
    public ClaimRow before(RowChange c) {
        return decode(c.columns(), c.before(), "before image");
    }

    /** The row after an insert or update. */
    public ClaimRow after(RowChange c) {
        return decode(c.columns(), c.after(), "after image");
    }

    private ClaimRow decode(String[] columns, Object[] row, String image) {
        if (columns != indexed) {
            // a new table shape: find the claim's columns once, not once a row
            int[] found = new int[names.length];
            for (int i = 0; i < names.length; i++) {
                found[i] = RowChange.indexOf(columns, names[i]);
            }
            at = found;
            indexed = columns;
        }
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            if (RowChange.absent(row, at[i])) {
                missing.add(names[i]);
            }
        }
        if (!missing.isEmpty()) {
            throw new IncompleteRowException("the " + image + " lacks " + String.join(", ", missing)
                    + "; the writing session must log binlog_row_image=FULL");
        }
        Object updatedAt = RowChange.value(row, at[UPDATED]);
        return new ClaimRow(required(row, ACTIVITY), required(row, USER), required(row, AMOUNT),
                orEmpty(row, STATUS), orEmpty(row, REQUEST), required(row, VERSION),
                updatedAt == null ? 0L : Values.asMillis(updatedAt));
    }

    private long required(Object[] row, int column) {
        Long v = Values.asLong(RowChange.value(row, at[column]));
        if (v == null) {
            throw new IllegalArgumentException("column " + names[column] + " is null");
        }
        return v;
    }

    private String orEmpty(Object[] row, int column) {
        String s = Values.asString(RowChange.value(row, at[column]));
        return s == null ? "" : s;
    }
}
