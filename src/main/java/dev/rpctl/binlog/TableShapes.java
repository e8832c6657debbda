package dev.rpctl.binlog;

import com.github.shyiko.mysql.binlog.event.TableMapEventData;
import com.github.shyiko.mysql.binlog.event.TableMapEventMetadata;
import dev.rpctl.errors.RpctlException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The column names of each table id of the binlog, from its table map events: the names the
 * events carry (binlog_row_metadata=FULL), else information_schema's as they are now. Tables the
 * pipeline does not map are remembered as skipped, so their rows are never decoded.
 * <p>
 * The server hands out a new table id whenever a table is opened anew (a flush, an ALTER, a table
 * definition cache eviction), so over weeks on one connection the ids seen have no end: the
 * newest {@link #MAX_TABLE_IDS} are kept. Every rows event follows its own table map in the same
 * transaction, so a forgotten id is mapped again before it is needed.
 */
final class TableShapes {
    private static final Logger log = LoggerFactory.getLogger(TableShapes.class);

    /** A mapped table's name and its (lower-case) column names in order. */
    record Shape(String name, String[] columns) {
        static final Shape SKIP = new Shape(null, null);
    }

    private final String name;
    private final String database;
    private final BinlogSource.Tables tables;
    /** Table ids remembered at most, as many as the event deserializer's own table map cache. */
    static final int MAX_TABLE_IDS = 10_000;

    private final Map<Long, Shape> byTableId;
    private final Map<String, String[]> lookedUp = new HashMap<>();
    private final Set<String> warnedNoNames = new HashSet<>();

    TableShapes(String name, String database, BinlogSource.Tables tables) {
        this(name, database, tables, MAX_TABLE_IDS);
    }

    TableShapes(String name, String database, BinlogSource.Tables tables, int maxTableIds) {
        this.byTableId = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Shape> eldest) {
                return size() > maxTableIds;
            }
        };
        this.name = name;
        this.database = database;
        this.tables = tables;
    }

    /** Table ids are per connection: a new one starts without them. */
    void forgetTableIds() {
        byTableId.clear();
    }

    /** After DDL: columns may have moved, information_schema is asked again. */
    void forgetLookups() {
        lookedUp.clear();
    }

    /** Called while a rows event is decoded, on the reader thread, after its table map was handled. */
    boolean unmapped(long tableId) {
        return byTableId.get(tableId) == Shape.SKIP;
    }

    /** A table map event: the table id's shape from now on; {@code at} is where the reader is, for the warning. */
    void map(TableMapEventData t, BinlogPosition at) {
        String table = t.getTable().toLowerCase(Locale.ROOT);
        if (!database.equals(t.getDatabase().toLowerCase(Locale.ROOT)) || !tables.names().contains(table)) {
            byTableId.put(t.getTableId(), Shape.SKIP);
            return;
        }
        Shape known = byTableId.get(t.getTableId());
        TableMapEventMetadata meta = t.getEventMetadata();
        List<String> names = meta == null ? null : meta.getColumnNames();
        int count = t.getColumnTypes().length;
        if (names != null && names.size() == count) {
            if (known != null && known.columns() != null && known.columns().length == count
                    && sameNames(known.columns(), names)) {
                return;
            }
            byTableId.put(t.getTableId(), new Shape(table, lower(names)));
            return;
        }
        if (tables.namesInEvents() && warnedNoNames.add(table)) {
            log.warn("pipeline {}: the binlog at {} maps table {} without column names (written before"
                    + " binlog_row_metadata=FULL); taking them from information_schema, which is right only while"
                    + " the table has not changed shape since", name, at, table);
        }
        String[] cols = lookedUp.get(table);
        if (cols == null || cols.length != count) {
            cols = lower(tables.columnLookup().apply(table));
            lookedUp.put(table, cols);
        }
        if (cols.length != count) {
            throw RpctlException.badData("table " + table + " has " + count + " columns in the binlog but "
                    + cols.length + " in information_schema; its shape changed mid-stream");
        }
        byTableId.put(t.getTableId(), new Shape(table, cols));
    }

    int tableIds() {
        return byTableId.size();
    }

    /** The shape of a mapped table id, or null for a table the pipeline skips. */
    Shape info(long tableId) {
        Shape info = byTableId.get(tableId);
        return info == null || info == Shape.SKIP ? null : info;
    }

    /**
     * A row image with one slot per column: the row itself under a full image, spread out
     * otherwise, with {@link RowChange#ABSENT} where the image leaves a column out.
     */
    static Object[] image(Shape info, BitSet included, Serializable[] row) {
        int n = info.columns().length;
        if (row.length == n && (included == null || included.cardinality() == n)) {
            return row;
        }
        Object[] out = new Object[n];
        int i = 0;
        for (int col = 0; col < n; col++) {
            out[col] = (included == null || included.get(col)) && i < row.length ? row[i++] : RowChange.ABSENT;
        }
        return out;
    }

    private static boolean sameNames(String[] have, List<String> names) {
        for (int i = 0; i < have.length; i++) {
            if (!have[i].equalsIgnoreCase(names.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static String[] lower(List<String> names) {
        return names.stream().map(n -> n.toLowerCase(Locale.ROOT)).toArray(String[]::new);
    }
}
