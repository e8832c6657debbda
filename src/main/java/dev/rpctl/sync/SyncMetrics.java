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
    final AtomicLong xaUnmatched = new AtomicLong();
    private final Histogram heartbeatLag = new Histogram(MAX_LAG_MS, 3);
    private final Histogram rowLag = new Histogram(MAX_LAG_MS, 3);
    private volatile boolean leader;
    private volatile boolean connected;
    private volatile boolean waiting;
    private volatile long lastHeartbeatLag = -1;
    private volatile long appliedBeatMillis;
    private volatile long checkpointSavedAt;
    private volatile BinlogPosition checkpoint;
    private volatile Supplier<List<Integer>> laneDepths = List::of;
    private volatile Supplier<List<LaneRetry>> laneRetries = List::of;

    private volatile long consumerLag = -1;
    private volatile boolean heartbeats = true;

    /**
     * Kafka mode reading a Debezium, Maxwell or Canal stream: no heartbeats come, so there is no
     * end-to-end lag to report (the row lag still is), and none to call unhealthy.
     */
    void withoutHeartbeats() {
        heartbeats = false;
    }

    /** Kafka mode: messages of this applier's partitions not yet read; -1 for a binlog pipeline. */
    void consumerLag(long messages) {
        consumerLag = messages;
    }

    public long consumerLag() {
        return consumerLag;
    }

    /** A lane retrying the batch in hand: since when (epoch ms), and why it last failed. */
    public record LaneRetry(int lane, long sinceMillis, String error) {}

    private final long heartbeatIntervalMillis;

    private volatile long leadingSinceMillis;
    private volatile boolean sideUp = true;
    private volatile long unhealthyLagMillis = Long.MAX_VALUE;

    /** Lag beyond which the pipeline is unhealthy (sync.unhealthy-lag). */
    void unhealthyLag(long millis) {
        unhealthyLagMillis = millis;
    }

    public SyncMetrics(String pipeline, String side, long heartbeatIntervalMillis) {
        this.pipeline = pipeline;
        this.side = side;
        this.heartbeatIntervalMillis = heartbeatIntervalMillis;
    }

    public String pipeline() {
        return pipeline;
    }

    public String side() {
        return side;
    }

    /** A heartbeat written at {@code beatMillis} reached the side through every lane at {@code now}. */
    void beatApplied(long beatMillis, long now) {
        long v = Math.max(0, Math.min(now - beatMillis, MAX_LAG_MS));
        synchronized (heartbeatLag) {
            lastHeartbeatLag = v;
            appliedBeatMillis = Math.max(appliedBeatMillis, beatMillis);
            heartbeatLag.recordValue(v);
        }
    }

    /** The write time of the newest heartbeat applied through every lane; 0 before the first. */
    public long appliedBeatMillis() {
        return appliedBeatMillis;
    }

    /**
     * Commit-to-applied lag as of {@code now}: the last heartbeat's, or, when heartbeats stop
     * arriving (a stuck lane, a side that is down), the time since the newest applied one was
     * written beyond one heartbeat interval, which grows for as long as nothing arrives.
     * -1 before the first heartbeat.
     */
    public long lagMillis(long now) {
        if (!heartbeats) {
            return -1;
        }
        long applied = appliedBeatMillis;
        if (applied <= 0) {
            // no heartbeat applied yet (the side down from the start): the time since leading began
            long since = leadingSinceMillis;
            return leader && since > 0 ? Math.max(0, now - since - heartbeatIntervalMillis) : -1;
        }
        return Math.max(Math.max(0, lastHeartbeatLag), now - applied - heartbeatIntervalMillis);
    }

    /** Sees every claim row a lane has written; for measurements. */
    public interface RowObserver {
        /** The row of {@code key} was on the side at {@code appliedMicros} (wall clock). */
        void applied(String key, long appliedMicros);
    }

    private volatile RowObserver observer;

    public void observe(RowObserver o) {
        observer = o;
    }

    /** A claim row last updated at {@code rowMillis} (the server's clock) is on the side at {@code nowMicros}. */
    void rowApplied(String key, long rowMillis, long nowMicros) {
        long v = Math.max(0, Math.min(nowMicros / 1000 - rowMillis, MAX_LAG_MS));
        synchronized (rowLag) {
            rowLag.recordValue(v);
        }
        RowObserver o = observer;
        if (o != null) {
            o.applied(key, nowMicros);
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
        if (v && !leader) {
            leadingSinceMillis = System.currentTimeMillis();
        }
        leader = v;
    }

    /** Whether the side answered the pipeline's last ping. */
    void sideUp(boolean v) {
        sideUp = v;
    }

    public boolean sideUp() {
        return sideUp;
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

    void laneRetries(Supplier<List<LaneRetry>> s) {
        laneRetries = s;
    }

    /** The lanes of the current leadership that are retrying a batch. */
    public List<LaneRetry> laneRetries() {
        return laneRetries.get();
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

    /** XA COMMITs and XA ROLLBACKs read without their prepare (the pipeline started after it). */
    public long xaUnmatched() {
        return xaUnmatched.get();
    }

    /**
     * Leading and reading with a lag within sync.unhealthy-lag and no lane retrying one batch for
     * longer than that, or standing by: what /health calls healthy. A side that is down stops the
     * heartbeats applied there, so its lag grows past the bound and the pipeline turns unhealthy.
     */
    public boolean healthy() {
        return problems(System.currentTimeMillis()).isEmpty();
    }

    /** Why the pipeline is not healthy as of {@code now}, one line each; empty when it is. */
    public List<String> problems(long now) {
        if (waiting) {
            return List.of();
        }
        List<String> out = new java.util.ArrayList<>();
        if (!leader) {
            out.add("pipeline " + pipeline + ": not leading");
            return out;
        }
        if (!connected) {
            out.add("pipeline " + pipeline + ": not connected to the binlog");
        }
        long lag = lagMillis(now);
        if (lag > unhealthyLagMillis) {
            out.add("pipeline " + pipeline + ": lag " + lag + " ms, past sync.unhealthy-lag (" + unhealthyLagMillis + " ms)");
        }
        for (LaneRetry r : laneRetries()) {
            long retrying = now - r.sinceMillis();
            if (retrying > unhealthyLagMillis) {
                out.add("pipeline " + pipeline + ": lane " + r.lane() + " has retried one batch to side " + side + " for "
                        + retrying / 1000 + " s (past sync.unhealthy-lag): " + r.error());
            }
        }
        return out;
    }
}
