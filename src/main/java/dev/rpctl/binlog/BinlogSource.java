package dev.rpctl.binlog;

import com.github.shyiko.mysql.binlog.BinaryLogClient;
import com.github.shyiko.mysql.binlog.event.DeleteRowsEventData;
import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.EventHeaderV4;
import com.github.shyiko.mysql.binlog.event.EventType;
import com.github.shyiko.mysql.binlog.event.GtidEventData;
import com.github.shyiko.mysql.binlog.event.MariadbGtidEventData;
import com.github.shyiko.mysql.binlog.event.QueryEventData;
import com.github.shyiko.mysql.binlog.event.RotateEventData;
import com.github.shyiko.mysql.binlog.event.TableMapEventData;
import com.github.shyiko.mysql.binlog.event.TableMapEventMetadata;
import com.github.shyiko.mysql.binlog.event.UpdateRowsEventData;
import com.github.shyiko.mysql.binlog.event.WriteRowsEventData;
import com.github.shyiko.mysql.binlog.event.LRUCache;
import com.github.shyiko.mysql.binlog.event.deserialization.DeleteRowsEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.EventHeaderV4Deserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.FormatDescriptionEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.GtidEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.MariadbGtidEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.MariadbGtidListEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.NullEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.PreviousGtidSetDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.QueryEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.RotateEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.TableMapEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.TransactionPayloadEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.UpdateRowsEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.WriteRowsEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.XidEventDataDeserializer;
import com.github.shyiko.mysql.binlog.io.ByteArrayInputStream;
import com.github.shyiko.mysql.binlog.network.ServerException;
import dev.rpctl.ExitCode;
import dev.rpctl.RpctlException;
import dev.rpctl.config.MysqlSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Serializable;
import java.net.Socket;
import java.time.Duration;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads the binlog of one server from a transaction boundary and hands the rows of the mapped
 * tables to a listener, then the end of each transaction. Reconnects by itself, with backoff,
 * from the end of the last transaction it handed over; a transaction cut by a disconnect is
 * abandoned and read again whole (versions make the replay harmless).
 */
public final class BinlogSource {
    private static final Logger log = LoggerFactory.getLogger(BinlogSource.class);
    /** ER_MASTER_FATAL_ERROR_READING_BINLOG: the requested file or GTID is no longer on the server. */
    static final int ERR_BINLOG_GONE = 1236;
    // the connector logs through java.util.logging at INFO on every connect; our own lines say it once
    private static final java.util.logging.Logger JUL = java.util.logging.Logger.getLogger("com.github.shyiko.mysql.binlog");

    static {
        JUL.setLevel(java.util.logging.Level.WARNING);
    }

    /** Receives rows and transaction ends on the reader thread, in binlog order. */
    public interface Listener {
        void row(RowChange change) throws InterruptedException;

        /** Everything handed over since the previous commit forms one transaction ending at {@code end}. */
        void commit(BinlogPosition end) throws InterruptedException;

        /** The connection dropped inside a transaction; it is read again from {@code resumeFrom}. */
        void abandon(BinlogPosition resumeFrom);

        default void connected(boolean up) {
        }
    }

    private record TableInfo(String name, String[] columns) {
        static final TableInfo SKIP = new TableInfo(null, null);
    }

    private final MysqlSettings mysql;
    private final long serverId;
    private final String database;
    private final Set<String> tables;
    private final Duration keepalive;
    private final Function<String, List<String>> columnLookup;
    private final Listener listener;
    private final String name;

    private final Map<Long, TableInfo> byTableId = new HashMap<>();
    private final Map<String, String[]> lookedUp = new HashMap<>();
    private volatile boolean stopped;
    private volatile boolean connected;
    private volatile BinaryLogClient client;
    private volatile Throwable fatal;
    private volatile Exception failure;
    private volatile long events;
    private BinlogPosition committed;
    private String file;
    private GtidPosition gtids = new GtidPosition("");
    private boolean inTx;

    /**
     * @param tables       lower-case names of the tables to hand over; rows of others are skipped by table id
     * @param columnLookup column names of a table in order, for servers without binlog_row_metadata=FULL
     */
    public BinlogSource(String name, MysqlSettings mysql, long serverId, Set<String> tables, Duration keepalive,
                        Function<String, List<String>> columnLookup, Listener listener) {
        this.name = name;
        this.mysql = mysql;
        this.serverId = serverId;
        this.database = mysql.database().toLowerCase(Locale.ROOT);
        this.tables = tables;
        this.keepalive = keepalive;
        this.columnLookup = columnLookup;
        this.listener = listener;
    }

    public boolean connected() {
        return connected;
    }

    public long events() {
        return events;
    }

    /** The end of the last transaction handed over. */
    public synchronized BinlogPosition committed() {
        return committed;
    }

    /**
     * Reads from {@code start} until {@link #stop()}. Throws exit 65 when the start is no longer
     * in the server's binlog, and rethrows what the listener threw.
     */
    public void run(BinlogPosition start) throws InterruptedException {
        synchronized (this) {
            committed = start;
        }
        file = start.file();
        gtids = new GtidPosition(start.gtid());
        long backoff = 250;
        while (!stopped) {
            BinaryLogClient c = newClient(committed);
            client = c;
            failure = null;
            long before = events;
            try {
                c.connect();
            } catch (IOException | RuntimeException e) {
                failure = e;
            } finally {
                connected = false;
                listener.connected(false);
            }
            if (fatal != null) {
                if (fatal instanceof RuntimeException re) {
                    throw re;
                }
                if (fatal instanceof InterruptedException ie) {
                    throw ie;
                }
                throw new IllegalStateException(fatal);
            }
            if (stopped) {
                break;
            }
            if (failure instanceof ServerException se && se.getErrorCode() == ERR_BINLOG_GONE) {
                throw purged(committed, se.getMessage());
            }
            if (inTx) {
                inTx = false;
                gtids.abandon();
                listener.abandon(committed);
            }
            if (events > before) {
                backoff = 250;
            }
            log.warn("pipeline {}: binlog connection to {} lost ({}); reconnecting from {} in {} ms", name,
                    mysql.address(), failure == null ? "closed" : RpctlException.rootMessage(failure), committed, backoff);
            Thread.sleep(backoff);
            backoff = Math.min(backoff * 2, 10_000);
        }
    }

    public static RpctlException purged(BinlogPosition at, String detail) {
        return RpctlException.badData("the binlog at the checkpoint " + at + " is no longer on the server"
                + (detail == null ? "" : " (" + detail + ")")
                + "; run 'rpctl reconcile', then 'rpctl sync-daemon --from-now'");
    }

    /** Stops reading; a transaction being handed over is left unfinished (never committed). */
    public void stop() {
        stopped = true;
        BinaryLogClient c = client;
        if (c != null) {
            try {
                c.disconnect();
            } catch (IOException e) {
                log.debug("disconnect", e);
            }
        }
    }

    private BinaryLogClient newClient(BinlogPosition from) {
        BinaryLogClient c = new BinaryLogClient(mysql.host(), mysql.port(), mysql.user(), mysql.password());
        c.setServerId(serverId);
        c.setKeepAlive(false);
        c.setHeartbeatInterval(keepalive.toMillis());
        c.setConnectTimeout(Math.max(1000, mysql.connectTimeout().toMillis()));
        int readTimeout = (int) Math.min(Integer.MAX_VALUE, keepalive.toMillis() * 3 + 5000);
        c.setSocketFactory(() -> {
            Socket s = new Socket();
            s.setSoTimeout(readTimeout);
            s.setKeepAlive(true);
            return s;
        });
        c.setEventDeserializer(deserializer());
        if (from.hasGtid()) {
            c.setGtidSet(from.gtid());
        } else {
            c.setBinlogFilename(from.file());
            c.setBinlogPosition(from.position());
        }
        c.registerEventListener(this::onEvent);
        c.registerLifecycleListener(new BinaryLogClient.AbstractLifecycleListener() {
            @Override
            public void onConnect(BinaryLogClient client) {
                connected = true;
                listener.connected(true);
                log.info("pipeline {}: reading the binlog of {} from {} as server id {}", name, mysql.address(), from, serverId);
            }

            @Override
            public void onCommunicationFailure(BinaryLogClient client, Exception ex) {
                failure = ex;
            }

            @Override
            public void onEventDeserializationFailure(BinaryLogClient client, Exception ex) {
                failure = ex;
            }
        });
        byTableId.clear();
        return c;
    }

    /**
     * Decodes only the events a pipeline reads (others arrive without data), and the rows of a
     * mapped table only: a rows event of any other table is skipped whole, undecoded.
     */
    private EventDeserializer deserializer() {
        Map<Long, TableMapEventData> tableMaps = new LRUCache<>(100, 0.75f, 10_000);
        Map<EventType, EventDataDeserializer> by = new EnumMap<>(EventType.class);
        by.put(EventType.FORMAT_DESCRIPTION, new FormatDescriptionEventDataDeserializer());
        by.put(EventType.ROTATE, new RotateEventDataDeserializer());
        by.put(EventType.QUERY, new QueryEventDataDeserializer());
        by.put(EventType.TABLE_MAP, new TableMapEventDataDeserializer());
        by.put(EventType.XID, new XidEventDataDeserializer());
        by.put(EventType.GTID, new GtidEventDataDeserializer());
        by.put(EventType.PREVIOUS_GTIDS, new PreviousGtidSetDeserializer());
        by.put(EventType.MARIADB_GTID, new MariadbGtidEventDataDeserializer());
        by.put(EventType.MARIADB_GTID_LIST, new MariadbGtidListEventDataDeserializer());
        // decoded so that handle() can refuse it by name instead of the reader failing on it
        by.put(EventType.TRANSACTION_PAYLOAD, new TransactionPayloadEventDataDeserializer());
        for (boolean ext : new boolean[] {false, true}) {
            by.put(ext ? EventType.EXT_WRITE_ROWS : EventType.WRITE_ROWS,
                    new SkippingWrites(tableMaps).setMayContainExtraInformation(ext));
            by.put(ext ? EventType.EXT_UPDATE_ROWS : EventType.UPDATE_ROWS,
                    new SkippingUpdates(tableMaps).setMayContainExtraInformation(ext));
            by.put(ext ? EventType.EXT_DELETE_ROWS : EventType.DELETE_ROWS,
                    new SkippingDeletes(tableMaps).setMayContainExtraInformation(ext));
        }
        EventDeserializer d = new EventDeserializer(new EventHeaderV4Deserializer(), new NullEventDataDeserializer(), by, tableMaps);
        d.setCompatibilityMode(EventDeserializer.CompatibilityMode.DATE_AND_TIME_AS_LONG_MICRO,
                EventDeserializer.CompatibilityMode.CHAR_AND_BINARY_AS_BYTE_ARRAY);
        return d;
    }

    /** Called while a rows event is decoded, on the reader thread, after its table map was handled. */
    private boolean unmapped(long tableId) {
        return byTableId.get(tableId) == TableInfo.SKIP;
    }

    /** Reads past the rest of a rows event; the row deserializers then see nothing left and stop. */
    private static Serializable[] skipRest(ByteArrayInputStream in) throws IOException {
        long left = in.available();
        while (left > 0) {
            long n = in.skip(left);
            if (n <= 0) {
                break;
            }
            left -= n;
        }
        return null;
    }

    private final class SkippingWrites extends WriteRowsEventDataDeserializer {
        SkippingWrites(Map<Long, TableMapEventData> tableMaps) {
            super(tableMaps);
        }

        @Override
        protected Serializable[] deserializeRow(long tableId, BitSet included, ByteArrayInputStream in) throws IOException {
            return unmapped(tableId) ? skipRest(in) : super.deserializeRow(tableId, included, in);
        }
    }

    private final class SkippingUpdates extends UpdateRowsEventDataDeserializer {
        SkippingUpdates(Map<Long, TableMapEventData> tableMaps) {
            super(tableMaps);
        }

        @Override
        protected Serializable[] deserializeRow(long tableId, BitSet included, ByteArrayInputStream in) throws IOException {
            return unmapped(tableId) ? skipRest(in) : super.deserializeRow(tableId, included, in);
        }
    }

    private final class SkippingDeletes extends DeleteRowsEventDataDeserializer {
        SkippingDeletes(Map<Long, TableMapEventData> tableMaps) {
            super(tableMaps);
        }

        @Override
        protected Serializable[] deserializeRow(long tableId, BitSet included, ByteArrayInputStream in) throws IOException {
            return unmapped(tableId) ? skipRest(in) : super.deserializeRow(tableId, included, in);
        }
    }

    private void onEvent(Event event) {
        if (stopped || fatal != null) {
            return;
        }
        events++;
        try {
            handle(event);
        } catch (Throwable t) {
            if (t instanceof InterruptedException && stopped) {
                return;
            }
            fatal = t;
            // the connector swallows listener exceptions: stop it from another thread, not this one
            BinaryLogClient c = client;
            Thread t2 = new Thread(() -> {
                try {
                    c.disconnect();
                } catch (IOException ignored) {
                    // already gone
                }
            }, "binlog-stop-" + name);
            t2.setDaemon(true);
            t2.start();
        }
    }

    private void handle(Event event) throws InterruptedException {
        EventType type = event.getHeader().getEventType();
        switch (type) {
            case ROTATE -> file = ((RotateEventData) event.getData()).getBinlogFilename();
            case MARIADB_GTID -> {
                MariadbGtidEventData g = event.getData();
                // the event's own server id: the connector fills the data's only when it tracks GTIDs itself
                gtids.beginMariadb(g.getDomainId(), ((EventHeaderV4) event.getHeader()).getServerId(), g.getSequence());
                inTx = true;
            }
            case GTID -> {
                gtids.beginMysql(((GtidEventData) event.getData()).getMySqlGtid().toString());
                inTx = true;
            }
            case TABLE_MAP -> tableMap(event.getData());
            case TRANSACTION_PAYLOAD -> throw new RpctlException(ExitCode.CONFIG, "the binlog of " + mysql.address()
                    + " holds compressed transactions, whose rows this daemon does not read;"
                    + " set binlog_transaction_compression=OFF on the server");
            case XID -> commit(event);
            case QUERY -> {
                String sql = ((QueryEventData) event.getData()).getSql().trim();
                if (sql.equalsIgnoreCase("BEGIN")) {
                    inTx = true;
                    return;
                }
                if (!sql.equalsIgnoreCase("COMMIT")) {
                    // DDL, and anything else that ends a statement group: columns may have moved
                    lookedUp.clear();
                }
                commit(event);
            }
            default -> {
                if (EventType.isRowMutation(type)) {
                    rows(event);
                }
            }
        }
    }

    private void commit(Event event) throws InterruptedException {
        gtids.commit();
        long next = ((EventHeaderV4) event.getHeader()).getNextPosition();
        BinlogPosition end = new BinlogPosition(file, next, gtids.toString());
        inTx = false;
        synchronized (this) {
            committed = end;
        }
        listener.commit(end);
    }

    private void tableMap(TableMapEventData t) {
        String table = t.getTable().toLowerCase(Locale.ROOT);
        if (!database.equals(t.getDatabase().toLowerCase(Locale.ROOT)) || !tables.contains(table)) {
            byTableId.put(t.getTableId(), TableInfo.SKIP);
            return;
        }
        TableInfo known = byTableId.get(t.getTableId());
        TableMapEventMetadata meta = t.getEventMetadata();
        List<String> names = meta == null ? null : meta.getColumnNames();
        int count = t.getColumnTypes().length;
        if (names != null && names.size() == count) {
            if (known != null && known.columns() != null && known.columns().length == count
                    && sameNames(known.columns(), names)) {
                return;
            }
            byTableId.put(t.getTableId(), new TableInfo(table, lower(names)));
            return;
        }
        String[] cols = lookedUp.get(table);
        if (cols == null || cols.length != count) {
            cols = lower(columnLookup.apply(table));
            lookedUp.put(table, cols);
        }
        if (cols.length != count) {
            throw RpctlException.badData("table " + table + " has " + count + " columns in the binlog but "
                    + cols.length + " in information_schema; its shape changed mid-stream");
        }
        byTableId.put(t.getTableId(), new TableInfo(table, cols));
    }

    private void rows(Event event) throws InterruptedException {
        Object data = event.getData();
        if (data instanceof WriteRowsEventData w) {
            TableInfo info = info(w.getTableId());
            if (info == null) {
                return;
            }
            for (Serializable[] r : w.getRows()) {
                listener.row(new RowChange(info.name(), RowChange.Kind.INSERT, info.columns(), null, image(info, w.getIncludedColumns(), r)));
            }
        } else if (data instanceof UpdateRowsEventData u) {
            TableInfo info = info(u.getTableId());
            if (info == null) {
                return;
            }
            for (Map.Entry<Serializable[], Serializable[]> r : u.getRows()) {
                listener.row(new RowChange(info.name(), RowChange.Kind.UPDATE, info.columns(),
                        image(info, u.getIncludedColumnsBeforeUpdate(), r.getKey()),
                        image(info, u.getIncludedColumns(), r.getValue())));
            }
        } else if (data instanceof DeleteRowsEventData d) {
            TableInfo info = info(d.getTableId());
            if (info == null) {
                return;
            }
            for (Serializable[] r : d.getRows()) {
                listener.row(new RowChange(info.name(), RowChange.Kind.DELETE, info.columns(), image(info, d.getIncludedColumns(), r), null));
            }
        }
    }

    private TableInfo info(long tableId) {
        TableInfo info = byTableId.get(tableId);
        return info == null || info == TableInfo.SKIP ? null : info;
    }

    /** A row image with one slot per column: the row itself under a full image, spread out otherwise. */
    private static Object[] image(TableInfo info, BitSet included, Serializable[] row) {
        int n = info.columns().length;
        if (row.length == n && (included == null || included.cardinality() == n)) {
            return row;
        }
        Object[] out = new Object[n];
        int i = 0;
        for (int col = 0; col < n && i < row.length; col++) {
            if (included == null || included.get(col)) {
                out[col] = row[i++];
            }
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
