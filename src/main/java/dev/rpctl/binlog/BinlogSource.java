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
import com.github.shyiko.mysql.binlog.event.UpdateRowsEventData;
import com.github.shyiko.mysql.binlog.event.WriteRowsEventData;
import com.github.shyiko.mysql.binlog.event.XAPrepareEventData;
import com.github.shyiko.mysql.binlog.network.SSLMode;
import com.github.shyiko.mysql.binlog.network.ServerException;
import dev.rpctl.config.BadDataPolicy;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.config.MysqlSettings;
import dev.rpctl.config.TlsVerify;
import dev.rpctl.db.Database;
import dev.rpctl.tls.Tls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Serializable;
import java.net.Socket;
import java.net.SocketException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Reads the binlog of one server from a transaction boundary and hands the rows of the mapped
 * tables to a listener, then the end of each transaction. A transaction is whole: a group opened
 * by BEGIN (or a MariaDB GTID without the standalone flag) ends only at its XID, COMMIT, a whole
 * ROLLBACK or an XA prepare or resolution, never at a SAVEPOINT or ROLLBACK TO inside it. Rows
 * after a savepoint are held until the transaction ends, so a ROLLBACK TO can take them back;
 * rows of an XA transaction are held from its prepare until its XA COMMIT (then handed over) or
 * XA ROLLBACK (dropped). Reconnects by itself, with backoff, from the end of the last transaction
 * it handed over; a transaction cut by a disconnect is abandoned and read again whole (versions
 * make the replay harmless).
 * <p>
 * Longer than most classes here on purpose: the connection loop and the transaction boundaries
 * share one state on the reader thread (position, GTIDs, the open group, the held rows), and a
 * reconnect must see exactly where the last whole transaction ended. Decoding lives in
 * {@link EventDecoding}, column names in {@link TableShapes}, held rows in {@link HeldRows}.
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

    /** MariaDB's GTID event flag (Gtid_log_event) of a group without BEGIN: DDL. */
    static final int FL_STANDALONE = 1;
    /** Row changes held in memory at most: after savepoints and in prepared XA transactions, all together. */
    public static final int MAX_HELD_ROWS = 100_000;

    /**
     * The tables to hand over and where their column names come from.
     *
     * @param names         lower-case names of the tables; rows of others are skipped by table id
     * @param columnLookup  column names of a table in order, from the schema as it is now, for
     *                      events without them (servers without binlog_row_metadata=FULL)
     * @param namesInEvents the server logs column names now: an event without them predates that,
     *                      and the lookup is warned about once per table
     */
    public record Tables(Set<String> names, Function<String, List<String>> columnLookup, boolean namesInEvents) {}

    /** Receives rows and transaction ends on the reader thread, in binlog order. */
    public interface Listener {
        void row(RowChange change) throws InterruptedException;

        /** Everything handed over since the previous end forms one transaction ending at {@code end}. */
        void commit(BinlogPosition end) throws InterruptedException;

        /**
         * XA transaction {@code xid} is prepared at {@code end}. Its rows are held by the reader, not
         * handed over; until its resolution nothing from its start on may count as applied, so that a
         * restart reads the prepare again.
         */
        void prepared(XaId xid, BinlogPosition end) throws InterruptedException;

        /**
         * The XA COMMIT ({@code committed}) or XA ROLLBACK of {@code xid}, a transaction ending at
         * {@code end}. {@code rows} are its prepared rows, to apply when committed, or null when its
         * prepare was not read (the reader started after it).
         */
        void resolved(XaId xid, boolean committed, List<RowChange> rows, BinlogPosition end) throws InterruptedException;

        /** The connection dropped inside a transaction; it is read again from {@code resumeFrom}. */
        void abandon(BinlogPosition resumeFrom);

        default void connected(boolean up) {
        }
    }

    private final MysqlSettings mysql;
    private final long serverId;
    private final String database;
    private final Tables tables;
    private final Duration keepalive;
    private final Listener listener;
    private final String name;
    private final HeldRows held;
    private final TableShapes shapes;

    private SSLContext sslContext;
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
    /** The open group began with BEGIN (or its equivalent): only a transaction end closes it. */
    private boolean explicit;
    /** Rows handed over in the open group, for the warning about a group that ends in ROLLBACK. */
    private long handed;
    private int maxEventBytes = Integer.MAX_VALUE;
    private BadDataPolicy onOversized = BadDataPolicy.FAIL;
    private AtomicLong oversizedCount = new AtomicLong();

    public BinlogSource(String name, MysqlSettings mysql, long serverId, Tables tables, Duration keepalive,
                        Listener listener) {
        this(name, mysql, serverId, tables, keepalive, listener, MAX_HELD_ROWS);
    }

    /** @param maxHeldRows row changes held in memory at most (savepoints, prepared XA transactions) */
    public BinlogSource(String name, MysqlSettings mysql, long serverId, Tables tables, Duration keepalive,
                        Listener listener, int maxHeldRows) {
        this.name = name;
        this.mysql = mysql;
        this.serverId = serverId;
        this.database = mysql.database().toLowerCase(Locale.ROOT);
        this.tables = tables;
        this.keepalive = keepalive;
        this.listener = listener;
        this.held = new HeldRows(maxHeldRows);
        this.shapes = new TableShapes(name, mysql.database().toLowerCase(Locale.ROOT), tables);
    }

    /**
     * Bounds what is read of one event: a rows event of a mapped table longer than
     * {@code maxEventBytes} is passed over unread and handled by {@code policy} (fail: exit 65
     * naming its place; warn; skip), counted in {@code count}. Unbounded unless set.
     */
    public BinlogSource bound(int maxEventBytes, BadDataPolicy policy, AtomicLong count) {
        this.maxEventBytes = maxEventBytes;
        this.onOversized = policy;
        this.oversizedCount = count;
        return this;
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
                throw readRefused(committed, se.getMessage(), serverId);
            }
            if (failure instanceof ServerException se && (se.getErrorCode() == Database.ER_SPECIFIC_ACCESS_DENIED
                    || se.getErrorCode() == Database.ER_TABLEACCESS_DENIED)) {
                throw Database.denied("pipeline " + name + ": binlog of mysql primary at " + mysql.address(), mysql.user(),
                        RpctlException.oneLine(se.getMessage()), se);
            }
            RpctlException tlsRefused = failure == null ? null
                    : Tls.refused(mysql.tls(), "pipeline " + name + ": binlog of mysql primary", mysql.address(), failure);
            if (tlsRefused != null) {
                throw tlsRefused;
            }
            if (inTx) {
                inTx = false;
                explicit = false;
                gtids.abandon();
                held.abandon();
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
                + "; start again at its end with 'rpctl sync-daemon --from-now', then run 'rpctl reconcile --since D'"
                + " with D longer than the daemon was behind");
    }

    /**
     * The server refused to send the binlog (error 1236, which covers more than a purged file):
     * a purged position names --from-now; another client reading as this server id, a GTID the
     * server never had, or a damaged event name what the server said and what to check instead.
     */
    static RpctlException readRefused(BinlogPosition at, String serverMessage, long serverId) {
        String m = serverMessage == null ? "" : serverMessage;
        String lower = m.toLowerCase(Locale.ROOT);
        if (lower.contains("same server_uuid") || lower.contains("same server_id")) {
            return new RpctlException(ExitCode.CONFIG, "the server refused the binlog to server id " + serverId + ": " + m
                    + "; another replica or daemon reads as that id: give this daemon another sync.server-id-base");
        }
        if (lower.contains("diverged") || lower.contains("higher sequence") || lower.contains("slave has more gtids")) {
            return RpctlException.badData("the server does not have the checkpoint's GTID " + at.gtid() + ": " + m
                    + "; the checkpoint comes from another server (a failover to one that lacks it?): check mysql.host,"
                    + " then start again with 'rpctl sync-daemon --from-now' and run 'rpctl reconcile'");
        }
        if (lower.contains("could not find first log file") || lower.contains("purged") || lower.contains("too old")
                || lower.contains("not in the master's binlog")) {
            return purged(at, m);
        }
        return RpctlException.badData("the server refused the binlog at " + at + ": " + m
                + " (error 1236); check the server's error log: a damaged or truncated binlog, or max_allowed_packet");
    }

    /**
     * Stops reading; a transaction being handed over is left unfinished (never committed). Returns
     * at once: the connector's disconnect waits for the reader thread, which may be blocked handing
     * a row to a full lane, so it runs on a thread of its own while the caller interrupts the reader.
     */
    public void stop() {
        stopped = true;
        disconnectAsync(client);
    }

    private void disconnectAsync(BinaryLogClient c) {
        if (c == null) {
            return;
        }
        Thread t = new Thread(() -> {
            try {
                c.disconnect();
            } catch (IOException e) {
                log.debug("disconnect", e);
            }
        }, "binlog-stop-" + name);
        t.setDaemon(true);
        t.start();
    }

    /** One TLS context for every reconnect: the PEM files are read once. */
    private SSLContext tls() {
        if (sslContext == null) {
            sslContext = Tls.context(mysql.tls());
        }
        return sslContext;
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
        if (mysql.tls().on()) {
            // our own factory: the configured CA, the host name as configured (not as resolved), a client certificate
            c.setSSLMode(mysql.tls().verify() == TlsVerify.NONE ? SSLMode.REQUIRED : SSLMode.VERIFY_CA);
            SSLContext ctx = tls();
            SSLParameters params = Tls.parameters(mysql.tls());
            c.setSslSocketFactory(plain -> {
                try {
                    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(plain, mysql.host(), mysql.port(), true);
                    s.setSSLParameters(params);
                    return s;
                } catch (IOException e) {
                    SocketException se = new SocketException("TLS: " + e.getMessage());
                    se.initCause(e);
                    throw se;
                }
            });
        } else {
            c.setSSLMode(SSLMode.DISABLED);
        }
        c.setEventDeserializer(EventDecoding.deserializer(shapes::unmapped, maxEventBytes));
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
                log.info("pipeline {}: reading the binlog of {} from {} as server id {}{}", name, mysql.address(), from,
                        serverId, mysql.tls().on() ? " over " + mysql.tls().describe() : "");
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
        shapes.forgetTableIds();
        return c;
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
            disconnectAsync(client);
        }
    }

    private void handle(Event event) throws InterruptedException {
        EventType type = event.getHeader().getEventType();
        if (event.getData() instanceof EventDecoding.Oversized o) {
            oversized(event, o);
            return;
        }
        switch (type) {
            case ROTATE -> file = ((RotateEventData) event.getData()).getBinlogFilename();
            case MARIADB_GTID -> {
                MariadbGtidEventData g = event.getData();
                // the event's own server id: the connector fills the data's only when it tracks GTIDs itself
                gtids.beginMariadb(g.getDomainId(), ((EventHeaderV4) event.getHeader()).getServerId(), g.getSequence());
                // MariaDB writes no BEGIN: the flags say whether a statement (DDL) or a transaction follows
                begin((g.getFlags() & FL_STANDALONE) == 0);
                if ((g.getFlags() & MariadbGtidDeserializer.FL_PREPARED_XA) != 0) {
                    held.startXa(g instanceof MariadbGtidDeserializer.Data d ? d.xid : null);
                }
            }
            case GTID -> {
                gtids.beginMysql(((GtidEventData) event.getData()).getMySqlGtid().toString());
                // a transaction's BEGIN or XA START follows; a DDL statement does not
                begin(false);
            }
            case TABLE_MAP -> shapes.map(event.getData(), committed);
            case TRANSACTION_PAYLOAD -> throw new RpctlException(ExitCode.CONFIG, "the binlog of " + mysql.address()
                    + " holds compressed transactions, whose rows this daemon does not read;"
                    + " set binlog_transaction_compression=OFF on the server");
            case XID -> commit(event);
            case XA_PREPARE -> {
                XAPrepareEventData x = event.getData();
                if (x.isOnePhase()) {
                    commit(event);
                } else {
                    prepared(event, XaId.of(x));
                }
            }
            case QUERY -> query(event, TxStatement.of(((QueryEventData) event.getData()).getSql()));
            default -> {
                if (EventType.isRowMutation(type)) {
                    rows(event);
                }
            }
        }
    }

    private void begin(boolean explicitly) {
        if (!inTx) {
            handed = 0;
        }
        inTx = true;
        explicit = explicitly;
    }

    private void query(Event event, TxStatement st) throws InterruptedException {
        switch (st.kind()) {
            case BEGIN -> begin(true);
            case XA_START -> {
                begin(true);
                held.startXa(st.xid());
            }
            case COMMIT -> commit(event);
            case ROLLBACK -> {
                // logged only where a non-transactional table was changed; what it held after its
                // savepoints was rolled back with it, what it handed over before cannot be taken back
                if (handed > 0) {
                    log.warn("pipeline {}: a transaction ending in ROLLBACK at {}:{} had {} rows of mapped tables"
                            + " applied (it mixed in a non-transactional table); run 'rpctl reconcile'", name, file,
                            ((EventHeaderV4) event.getHeader()).getPosition(), handed);
                }
                held.abandon();
                commit(event);
            }
            case SAVEPOINT -> held.savepoint(st.name());
            case ROLLBACK_TO -> {
                if (!held.rollbackTo(st.name())) {
                    log.warn("pipeline {}: ROLLBACK TO an unknown savepoint {} at {}:{}; rows kept", name, st.name(),
                            file, ((EventHeaderV4) event.getHeader()).getPosition());
                }
            }
            case RELEASE, XA_END -> {
                // inside a transaction, and no end of it
            }
            case XA_COMMIT, XA_ROLLBACK -> {
                List<RowChange> rows = held.resolve(st.xid());
                BinlogPosition end = end(event);
                listener.resolved(st.xid(), st.kind() == TxStatement.Kind.XA_COMMIT, rows, end);
            }
            case OTHER -> {
                // DDL, and anything else: columns may have moved
                shapes.forgetLookups();
                if (!explicit) {
                    commit(event);
                }
            }
        }
    }

    /** The open transaction ends here: what it held goes out first, in binlog order. */
    private void commit(Event event) throws InterruptedException {
        for (RowChange c : held.end()) {
            listener.row(c);
        }
        listener.commit(end(event));
    }

    private void prepared(Event event, XaId xid) throws InterruptedException {
        held.prepare(xid);
        listener.prepared(xid, end(event));
    }

    /** Closes the open group at this event and returns where it ends. */
    private BinlogPosition end(Event event) {
        gtids.commit();
        long next = ((EventHeaderV4) event.getHeader()).getNextPosition();
        BinlogPosition end = new BinlogPosition(file, next, gtids.toString());
        inTx = false;
        explicit = false;
        handed = 0;
        synchronized (this) {
            committed = end;
        }
        return end;
    }

    /**
     * A rows event longer than sync.max-event-bytes, by sync.on-bad-data. One of a table the
     * pipeline does not read is no concern of it; one of a mapped table loses its rows under warn
     * and skip (reconcile repairs their keys).
     */
    private void oversized(Event event, EventDecoding.Oversized o) {
        TableShapes.Shape info = shapes.info(o.tableId());
        if (info == null) {
            return;
        }
        String what = "a rows event of " + info.name();
        oversizedCount.incrementAndGet();
        EventHeaderV4 h = (EventHeaderV4) event.getHeader();
        String at = file + ":" + (h.getNextPosition() - h.getEventLength());
        String problem = what + " at " + at + " holds " + o.bytes() + " bytes, more than sync.max-event-bytes ("
                + maxEventBytes + ")";
        if (onOversized == BadDataPolicy.FAIL) {
            throw RpctlException.badData("pipeline " + name + ": " + problem + "; not read (sync.on-bad-data=fail;"
                    + " raise sync.max-event-bytes, or set sync.on-bad-data to warn or skip to go past it)");
        }
        if (onOversized == BadDataPolicy.WARN) {
            log.warn("pipeline {}: {}; skipped unread, its rows are not applied (reconcile repairs their keys)", name,
                    problem);
        }
    }

    private void rows(Event event) throws InterruptedException {
        Object data = event.getData();
        if (data instanceof WriteRowsEventData w) {
            TableShapes.Shape info = shapes.info(w.getTableId());
            if (info == null) {
                return;
            }
            for (Serializable[] r : w.getRows()) {
                hand(new RowChange(info.name(), RowChange.Kind.INSERT, info.columns(), null, TableShapes.image(info, w.getIncludedColumns(), r)));
            }
        } else if (data instanceof UpdateRowsEventData u) {
            TableShapes.Shape info = shapes.info(u.getTableId());
            if (info == null) {
                return;
            }
            for (Map.Entry<Serializable[], Serializable[]> r : u.getRows()) {
                hand(new RowChange(info.name(), RowChange.Kind.UPDATE, info.columns(),
                        TableShapes.image(info, u.getIncludedColumnsBeforeUpdate(), r.getKey()),
                        TableShapes.image(info, u.getIncludedColumns(), r.getValue())));
            }
        } else if (data instanceof DeleteRowsEventData d) {
            TableShapes.Shape info = shapes.info(d.getTableId());
            if (info == null) {
                return;
            }
            for (Serializable[] r : d.getRows()) {
                hand(new RowChange(info.name(), RowChange.Kind.DELETE, info.columns(), TableShapes.image(info, d.getIncludedColumns(), r), null));
            }
        }
    }

    private void hand(RowChange c) throws InterruptedException {
        if (held.holding()) {
            held.add(c);
        } else {
            handed++;
            listener.row(c);
        }
    }
}
