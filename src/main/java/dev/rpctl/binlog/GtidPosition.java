package dev.rpctl.binlog;

import com.github.shyiko.mysql.binlog.GtidSet;

import java.util.Map;
import java.util.TreeMap;

/**
 * The GTID position of a reader, in the server's own form: MariaDB's {@code domain-server-seq}
 * list (one entry per domain, the last transaction read) or MySQL's executed set
 * {@code uuid:1-42,...}. A transaction's GTID counts once the transaction has been read to its end.
 * A reader that started from a file and position keeps none: a GTID set made only of what it has
 * read would tell the server to send everything before again (MySQL) or name transactions
 * wrongly, so it goes on by file and position.
 */
final class GtidPosition {
    private final Map<Long, String> mariadb = new TreeMap<>();
    private final boolean tracking;
    private GtidSet mysql;
    private String pending;
    private long pendingDomain;

    /** @param start a checkpoint's GTID text in either form; empty when it has none */
    GtidPosition(String start) {
        String s = start == null ? "" : start.replaceAll("\\s", "");
        tracking = !s.isEmpty();
        if (!tracking) {
            return;
        }
        if (s.contains(":")) {
            mysql = new GtidSet(s);
            return;
        }
        for (String g : s.split(",")) {
            if (!g.isEmpty()) {
                mariadb.put(Long.parseLong(g.substring(0, g.indexOf('-'))), g);
            }
        }
    }

    /** A MariaDB GTID event opens a transaction. */
    void beginMariadb(long domain, long serverId, long sequence) {
        pendingDomain = domain;
        pending = domain + "-" + serverId + "-" + sequence;
    }

    /** A MySQL GTID event ({@code uuid:n}) opens a transaction. */
    void beginMysql(String gtid) {
        pendingDomain = -1;
        pending = gtid;
    }

    /** The open transaction was read to its end. */
    void commit() {
        if (pending == null || !tracking) {
            pending = null;
            return;
        }
        if (pendingDomain < 0) {
            if (mysql == null) {
                // a MariaDB-form start on a server that writes MySQL GTIDs: it cannot go on by GTID
                pending = null;
                return;
            }
            mysql.add(pending);
        } else {
            mariadb.put(pendingDomain, pending);
        }
        pending = null;
    }

    /** The open transaction will be read again. */
    void abandon() {
        pending = null;
    }

    @Override
    public String toString() {
        if (mysql != null) {
            return mysql.toString();
        }
        return String.join(",", mariadb.values());
    }
}
