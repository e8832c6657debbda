package dev.rpctl.binlog;

import dev.rpctl.errors.RpctlException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rows a reader may not hand over yet: those of the open transaction after a savepoint (a
 * later ROLLBACK TO takes them back) or inside an XA transaction, and the prepared parts of XA
 * transactions waiting for their XA COMMIT or XA ROLLBACK. All of them count against one bound,
 * so a stuck prepare cannot grow memory without end. Reader thread only.
 */
final class HeldRows {
    private final int limit;
    private final List<RowChange> open = new ArrayList<>();
    /** Savepoint name -> how many held rows were before it. */
    private final Map<String, Integer> savepoints = new LinkedHashMap<>();
    private final Map<XaId, List<RowChange>> prepared = new LinkedHashMap<>();
    private boolean holding;
    private XaId xa;
    private int preparedRows;

    HeldRows(int limit) {
        this.limit = limit;
    }

    /** Whether rows of the open transaction are held instead of handed over. */
    boolean holding() {
        return holding;
    }

    /** The open transaction is XA (its id may come only with its prepare); every row of it is held. */
    void startXa(XaId xid) {
        holding = true;
        xa = xid;
    }

    /** A savepoint: rows from here on are held until the transaction ends. */
    void savepoint(String name) {
        holding = true;
        savepoints.remove(name);
        savepoints.put(name, open.size());
    }

    /** ROLLBACK TO: the rows since the savepoint never happened; it and the earlier ones stay. */
    boolean rollbackTo(String name) {
        Integer at = savepoints.get(name);
        if (at == null) {
            return false;
        }
        open.subList(at, open.size()).clear();
        boolean after = false;
        for (var it = savepoints.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (after) {
                it.remove();
            }
            after |= e.getKey().equals(name);
        }
        return true;
    }

    void add(RowChange c) {
        if (open.size() + preparedRows >= limit) {
            String xid = xa != null ? "XA transaction " + xa : !prepared.isEmpty()
                    ? "the prepared XA transactions " + prepared.keySet() : "a transaction with savepoints";
            throw RpctlException.badData("more than " + limit + " row changes held in memory for " + xid
                    + " (rows are held after a savepoint and until an XA COMMIT); commit or roll back the"
                    + " prepared XA transactions (XA RECOVER lists them), then run 'rpctl reconcile' and"
                    + " 'rpctl sync-daemon --from-now'");
        }
        open.add(c);
    }

    /** The open transaction ends: its held rows, to hand over now. */
    List<RowChange> end() {
        List<RowChange> out = List.copyOf(open);
        clearOpen();
        return out;
    }

    /** The open transaction is prepared as {@code xid}: its rows wait for the resolution. */
    void prepare(XaId xid) {
        List<RowChange> rows = new ArrayList<>(open);
        List<RowChange> earlier = prepared.remove(xid);
        if (earlier != null) {
            // the same prepare read again after a reconnect: it replaces itself
            preparedRows -= earlier.size();
        }
        prepared.put(xid, rows);
        preparedRows += rows.size();
        clearOpen();
    }

    /** XA COMMIT or XA ROLLBACK of {@code xid}: its prepared rows, or null when its prepare was not read. */
    List<RowChange> resolve(XaId xid) {
        List<RowChange> rows = prepared.remove(xid);
        if (rows != null) {
            preparedRows -= rows.size();
        }
        return rows;
    }

    /** The open transaction will be read again from its start. */
    void abandon() {
        clearOpen();
    }

    int size() {
        return open.size() + preparedRows;
    }

    private void clearOpen() {
        open.clear();
        savepoints.clear();
        holding = false;
        xa = null;
    }
}
