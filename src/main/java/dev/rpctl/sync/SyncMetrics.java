package dev.rpctl.sync;

import dev.rpctl.binlog.BinlogPosition;
import org.HdrHistogram.Histogram;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/** What one pipeline has done, for /metrics, /health and the log. Shared across leaderships. */
public final class SyncMetrics {
    private static final long MAX_LAG_MS = 24L * 3600 * 1000;

    private final String pipeline;
    private final String side;
    final AtomicLong events = new AtomicLong();
    final AtomicLong rowsApplied = new AtomicLong();
    final AtomicLong writes = new AtomicLong();
    final AtomicLong retries = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong badData = new AtomicLong();
    final AtomicLong undecodable = new AtomicLong();
    final AtomicLong transactions = new AtomicLong();
    private final Histogram heartbeatLag = new Histogram(MAX_LAG_MS, 3);
    private final Histogram rowLag = new Histogram(MAX_LAG_MS, 3);
    private volatile boolean leader;
    private volatile boolean connected;
    private volatile boolean waiting;
    private volatile long lastHeartbeatLag = -1;
    private volatile long checkpointSavedAt;
    private volatile BinlogPosition checkpoint;
    private volatile Supplier<List<Integer>> laneDepths = List::of;

    public SyncMetrics(String pipeline, String side) {
        this.pipeline = pipeline;
        this.side = side;
    }

    public String pipeline() {
        return pipeline;
    }

    public String side() {
        return side;
    }

    void heartbeatLag(long ms) {
        long v = Math.max(0, Math.min(ms, MAX_LAG_MS));
        lastHeartbeatLag = v;
        synchronized (heartbeatLag) {
            heartbeatLag.recordValue(v);
        }
    }

    void rowLag(long ms) {
        long v = Math.max(0, Math.min(ms, MAX_LAG_MS));
        synchronized (rowLag) {
            rowLag.recordValue(v);
        }
    }

    /** A copy of the heartbeat lag histogram (milliseconds, commit of the beat to its apply). */
    public Histogram heartbeatLag() {
        synchronized (heartbeatLag) {
            return heartbeatLag.copy();
        }
    }

    /** A copy of the claim row lag histogram (milliseconds, updated_at to apply). */
    public Histogram rowLag() {
        synchronized (rowLag) {
            return rowLag.copy();
        }
    }

    public long lastHeartbeatLag() {
        return lastHeartbeatLag;
    }

    void leader(boolean v) {
        leader = v;
    }

    void connected(boolean v) {
        connected = v;
    }

    void waiting(boolean v) {
        waiting = v;
    }

    void checkpointSaved(BinlogPosition p, long at) {
        checkpoint = p;
        checkpointSavedAt = at;
    }

    void laneDepths(Supplier<List<Integer>> s) {
        laneDepths = s;
    }

    public boolean leader() {
        return leader;
    }

    public boolean connected() {
        return connected;
    }

    public boolean waiting() {
        return waiting;
    }

    public BinlogPosition checkpoint() {
        return checkpoint;
    }

    public long checkpointSavedAt() {
        return checkpointSavedAt;
    }

    public List<Integer> laneDepths() {
        return laneDepths.get();
    }

    public long events() {
        return events.get();
    }

    public long rowsApplied() {
        return rowsApplied.get();
    }

    public long writes() {
        return writes.get();
    }

    public long retries() {
        return retries.get();
    }

    public long errors() {
        return errors.get();
    }

    public long badData() {
        return badData.get();
    }

    public long undecodable() {
        return undecodable.get();
    }

    public long transactions() {
        return transactions.get();
    }

    /** Leading and reading, or standing by: what /health calls healthy. */
    public boolean healthy() {
        return (leader && connected) || waiting;
    }
}
