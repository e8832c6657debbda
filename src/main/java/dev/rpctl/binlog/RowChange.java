package dev.rpctl.binlog;

/**
 * One row of a rows event. {@code columns} are the table's (lower-case) column names in order,
 * the same array for every row until the table changes shape; {@code before} and {@code after}
 * hold one value per column (null where the image leaves a column out). {@code before} is null
 * for an insert, {@code after} for a delete. A change belongs to the transaction that the next
 * {@link BinlogSource.Listener#commit} closes, whose end position is handed over there: a
 * transaction is streamed, never held in memory whole.
 */
public record RowChange(String table, Kind kind, String[] columns, Object[] before, Object[] after) {

    public enum Kind { INSERT, UPDATE, DELETE }

    /** Where a column is in {@code columns}, or -1. */
    public static int indexOf(String[] columns, String column) {
        for (int i = 0; i < columns.length; i++) {
            if (columns[i].equals(column)) {
                return i;
            }
        }
        return -1;
    }

    /** The value at {@code index} of a row image; null for -1 or a column the image left out. */
    public static Object value(Object[] row, int index) {
        return index < 0 || index >= row.length ? null : row[index];
    }
}
