package dev.rpctl.binlog;

import java.util.Map;

/**
 * One row of a rows event, with columns by (lower-case) name. {@code before} is null for an
 * insert, {@code after} for a delete. A change belongs to the transaction that the next
 * {@link BinlogSource.Listener#commit} closes, whose end position is handed over there: a
 * transaction is streamed, never held in memory whole.
 */
public record RowChange(String table, Kind kind, Map<String, Object> before, Map<String, Object> after) {

    public enum Kind { INSERT, UPDATE, DELETE }
}
