package dev.rpctl.claim;

import dev.rpctl.db.Database;
import dev.rpctl.db.SchemaService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The claim statistics of this process ({@link ClaimStats}), per activity: counted in memory as
 * groups are answered, and added to the statistics table's row of the server's current minute
 * every {@value #FLUSH_SECONDS} s by a thread of its own, in one statement for every activity.
 * The claim path pays a few counter increments a group, never a round trip. Saving is best effort:
 * a failure is logged and its counts go with the next flush; claims never fail because of it.
 */
final class ClaimStatsLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClaimStatsLog.class);
    static final int FLUSH_SECONDS = 5;
    private static final long PRUNE_NANOS = TimeUnit.HOURS.toNanos(1);
    private static final long IDLE_NANOS = TimeUnit.HOURS.toNanos(1);
    private static final long WARN_AGAIN_NANOS = TimeUnit.MINUTES.toNanos(10);
    /** An activity's groups are timed at most this often in a process: at a low rate every one is. */
    static final long TIME_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private static final class Counts {
        final LongAdder claims = new LongAdder();
        final LongAdder groups = new LongAdder();
        final LongAdder claimMicros = new LongAdder();
        final LongAdder shardWaitMicros = new LongAdder();
        final LongAdder timedClaimMicros = new LongAdder();
        /** When the activity's last timed group started (System.nanoTime), or 0. */
        final java.util.concurrent.atomic.AtomicLong timedAt = new java.util.concurrent.atomic.AtomicLong();
    }

    private final Database db;
    private final Map<Long, Counts> counts = new ConcurrentHashMap<>();
    private volatile ScheduledExecutorService flusher;
    private long prunedAt;
    private boolean pruned;
    private long warnedAt;
    private boolean warned;
    private boolean closed;

    ClaimStatsLog(Database db) {
        this.db = db;
    }

    /**
     * Whether the group of the activity about to be decided is timed (its shard-lock wait
     * measured): one every {@link #TIME_EVERY_NANOS} at most, so the statements that time a group
     * cost a heavy load little; the share of the claims' time waiting is taken over the timed
     * groups' claims, a sample that does not depend on the waits.
     */
    boolean times(long activity) {
        Counts c = counts.computeIfAbsent(activity, k -> new Counts());
        long now = System.nanoTime();
        long last = c.timedAt.get();
        return (last == 0 || now - last >= TIME_EVERY_NANOS) && c.timedAt.compareAndSet(last, now == 0 ? 1 : now);
    }

    /**
     * Counts one answered group of an activity: its claims, their time from queued to answered in
     * all, and, when the group was timed (shardWaitMicros >= 0), that time again beside the
     * shard-lock wait of the group's transactions, which each of its claims waited.
     */
    void group(long activity, int claims, long claimNanos, long shardWaitMicros) {
        Counts c = counts.computeIfAbsent(activity, k -> new Counts());
        c.claims.add(claims);
        c.groups.increment();
        c.claimMicros.add(claimNanos / 1000);
        if (shardWaitMicros >= 0) {
            c.timedClaimMicros.add(claimNanos / 1000);
            c.shardWaitMicros.add(shardWaitMicros * claims);
        }
        if (flusher == null) {
            start();
        }
    }

    private synchronized void start() {
        if (flusher != null || closed) {
            return;
        }
        flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "claim-stats");
            t.setDaemon(true);
            return t;
        });
        flusher.scheduleWithFixedDelay(this::flush, FLUSH_SECONDS, FLUSH_SECONDS, TimeUnit.SECONDS);
    }

    /** Adds what was counted since the last flush to the table; synchronized: the close's last flush waits for a running one. */
    synchronized void flush() {
        StringBuilder values = new StringBuilder();
        List<long[]> taken = new ArrayList<>();
        for (Map.Entry<Long, Counts> e : counts.entrySet()) {
            Counts c = e.getValue();
            long[] v = {e.getKey(), c.claims.sumThenReset(), c.groups.sumThenReset(), c.claimMicros.sumThenReset(),
                    c.shardWaitMicros.sumThenReset(), c.timedClaimMicros.sumThenReset()};
            if (v[1] == 0 && v[2] == 0) {
                // an activity without a claim for an hour leaves the map: a process that claims for
                // one activity after another keeps only the recent ones (a claim brings it back)
                long timed = c.timedAt.get();
                if (timed == 0 || System.nanoTime() - timed >= IDLE_NANOS) {
                    counts.remove(e.getKey(), c);
                }
                continue;
            }
            taken.add(v);
            values.append(values.length() == 0 ? "" : ", ").append('(').append(v[0])
                    // the server's minute, the same for every process that adds to the row
                    .append(", DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:%i:00'), ")
                    .append(v[1]).append(", ").append(v[2]).append(", ").append(v[3]).append(", ").append(v[4])
                    .append(", ").append(v[5]).append(')');
        }
        if (taken.isEmpty()) {
            return;
        }
        String table = SchemaService.CLAIM_STATS_TABLE;
        long now = System.nanoTime();
        // rows older than ClaimStats.KEPT_DAYS go, by the first flush of a process and then hourly
        boolean prune = !pruned || now - prunedAt >= PRUNE_NANOS;
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO " + table + " (activity_id, minute, claims, claim_groups, claim_us, shard_wait_us,"
                    + " timed_claim_us) VALUES " + values + " ON DUPLICATE KEY UPDATE claims = claims + VALUES(claims),"
                    + " claim_groups = claim_groups + VALUES(claim_groups), claim_us = claim_us + VALUES(claim_us),"
                    + " shard_wait_us = shard_wait_us + VALUES(shard_wait_us),"
                    + " timed_claim_us = timed_claim_us + VALUES(timed_claim_us)");
            if (prune) {
                st.execute("DELETE FROM " + table + " WHERE minute < UTC_TIMESTAMP() - INTERVAL " + ClaimStats.KEPT_DAYS + " DAY");
                pruned = true;
                prunedAt = now;
            }
        } catch (Exception e) {
            // kept for the next flush, which adds them to its own minute
            for (long[] v : taken) {
                Counts c = counts.computeIfAbsent(v[0], k -> new Counts());
                c.claims.add(v[1]);
                c.groups.add(v[2]);
                c.claimMicros.add(v[3]);
                c.shardWaitMicros.add(v[4]);
                c.timedClaimMicros.add(v[5]);
            }
            if (!warned || now - warnedAt >= WARN_AGAIN_NANOS) {
                warned = true;
                warnedAt = now;
                log.warn("claim statistics (activity show's shard-lock waits) not saved: {}", db.translate(e).getMessage());
            }
        }
    }

    /** Stops the flushing thread and saves what is left. */
    @Override
    public void close() {
        ScheduledExecutorService f;
        synchronized (this) {
            closed = true;
            f = flusher;
        }
        if (f != null) {
            f.shutdownNow();
        }
        flush();
    }
}
