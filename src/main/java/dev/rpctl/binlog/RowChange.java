package dev.rpctl.binlog;

/**
 * One row of a rows event. {@code columns} are the table's (lower-case) column names in order,
 * the same array for every row until the table changes shape; {@code before} and {@code after}
 * hold one value per column: the value, null for SQL NULL, or {@link #ABSENT} where the row image
 * left the column out (a session with {@code binlog_row_image=MINIMAL} or {@code NOBLOB}).
 * {@code before} is null for an insert, {@code after} for a delete. A change belongs to the
 * transaction that the next {@link BinlogSource.Listener#commit} closes, whose end position is
 * handed over there.
 */
public record RowChange(String table, Kind kind, String[] columns, Object[] before, Object[] after) {

    public enum Kind { INSERT, UPDATE, DELETE }

    /** The slot of a column that the row image does not carry. */
    public static final Object ABSENT = new Object() {
        @Override
        public String toString() {
            return "ABSENT";
        }
    };

    /** Where a column is in {@code columns}, or -1. */
    public static int indexOf(String[] columns, String column) {
        for (int i = 0; i < columns.length; i++) {
            if (columns[i].equals(column)) {
                return i;
            }
        }
        return -1;
    }

    /** The value at {@code index} of a row image; null for -1, SQL NULL or a column the image left out. */
    public static Object value(Object[] row, int index) {
        Object v = index < 0 || index >= row.length ? null : row[index];
        return v == ABSENT ? null : v;
    }

    /** True when the image does not carry the column at {@code index} (or the table has no such column). */
    public static boolean absent(Object[] row, int index) {
        return index < 0 || index >= row.length || row[index] == ABSENT;
    }
}
