package dev.rpctl.sync;

import dev.rpctl.config.BadDataPolicy;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.CasOutcome;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.UndecodableEntryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * One ordered lane of a pipeline: a bounded queue and the thread that empties it. It takes what
 * is there (waiting only for the first item, never on a timer), writes it as one pipelined
 * compare-and-set batch, and loops. A failed batch is retried whole, so one user's changes are
 * never reordered; a full queue blocks the binlog reader of this side only. How long the batch in
 * hand has been retried is what /health reads to call a lane stuck.
 */
final class Lane implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Lane.class);

    /** A cache write (key and entry) or a heartbeat (key null), and the transaction it belongs to. */
    /** A change for the side; activityId and userId say whose claim it is (a row entry adds its user to the activity's Bloom filter). */
    record Item(String key, Entry entry, long activityId, long userId, TxTracker.Tx tx, Beat beat, long rowMillis) {}

    /**
     * A heartbeat goes through every lane of its pipeline, behind whatever each lane held when it
     * was read: it is applied when the last lane reaches it, and then every change committed
     * before it is applied too.
     */
    static final class Beat {
        final long millis;
        private final AtomicInteger lanes;
        /** Told the time the last lane reached the beat; null: the pipeline's metrics are. */
        private final LongConsumer applied;

        Beat(long millis, int lanes) {
            this(millis, lanes, null);
        }

        Beat(long millis, int lanes, LongConsumer applied) {
            this.millis = millis;
            this.lanes = new AtomicInteger(lanes);
            this.applied = applied;
        }

        /** This lane has reached the beat; true for the last one. */
        boolean reached() {
            return lanes.decrementAndGet() == 0;
        }
    }

    private final String name;
    private final BlockingQueue<Item> queue;
    private final int batchSize;
    private final CacheSide side;
    private final CacheProtocol protocol;
    private final SyncMetrics metrics;
    private final BadDataPolicy onBadData;
    private final Consumer<RpctlException> fail;
    private volatile boolean aborted;
    private volatile boolean draining;
    /** When the batch in hand first failed (epoch ms), 0 while it has not; and why it last failed. */
    private volatile long retryingSinceMillis;
    private volatile String retryError;

    /** @param fail ends the pipeline with bad data (exit 65); the lane stops before the change it could not apply */
    Lane(String name, int capacity, int batchSize, CacheSide side, CacheProtocol protocol, SyncMetrics metrics,
         BadDataPolicy onBadData, Consumer<RpctlException> fail) {
        this.name = name;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.batchSize = batchSize;
        this.side = side;
        this.protocol = protocol;
        this.metrics = metrics;
        this.onBadData = onBadData;
        this.fail = fail;
    }

    /**
     * Queues an item, waiting while the queue is full; a lane that ended (aborted, or failed on
     * bad data or a refused command) takes nothing more, and the caller is interrupted out of the
     * wait instead of blocking on a queue nobody empties.
     */
    void put(Item item) throws InterruptedException {
        while (!queue.offer(item, 100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
            if (aborted) {
                throw new InterruptedException("lane " + name + " has ended");
            }
        }
    }

    /** Asks the lane to write what its queue holds and then end. */
    void drain() {
        draining = true;
    }

    int depth() {
        return queue.size();
    }

    /** Ends the lane after the write in hand, leaving its batch and queue unapplied. */
    void abort() {
        aborted = true;
    }

    /** Since when (epoch ms) the lane has retried the batch in hand, 0 when it is not retrying. */
    long retryingSinceMillis() {
        return retryingSinceMillis;
    }

    String retryError() {
        return retryError;
    }

    @Override
    public void run() {
        List<Item> batch = new ArrayList<>(batchSize);
        List<CacheProtocol.Write> writes = new ArrayList<>(batchSize);
        try {
            while (!aborted) {
                Item first = queue.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (draining) {
                        return;
                    }
                    continue;
                }
                batch.clear();
                batch.add(first);
                queue.drainTo(batch, batchSize - 1);
                writes.clear();
                for (Item i : batch) {
                    if (i.key() != null) {
                        writes.add(new CacheProtocol.Write(i.key(), i.entry(), i.activityId(), i.userId()));
                    }
                }
                if (!write(writes)) {
                    return;
                }
                Instant at = Instant.now();
                long now = at.toEpochMilli();
                long micros = at.getEpochSecond() * 1_000_000 + at.getNano() / 1000;
                for (Item i : batch) {
                    if (i.beat() != null) {
                        if (i.beat().reached()) {
                            if (i.beat().applied != null) {
                                i.beat().applied.accept(now);
                            } else {
                                metrics.beatApplied(i.beat().millis, now);
                            }
                        }
                    } else if (i.rowMillis() > 0) {
                        metrics.rowApplied(i.key(), i.rowMillis(), micros);
                    }
                    i.tx().done();
                }
                metrics.rowsApplied.addAndGet(writes.size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A change whose key holds an undecodable value, by sync.on-bad-data: under fail the pipeline
     * ends (exit 65, naming the key) before the change, so its transaction is not checkpointed
     * and is read again after the value is repaired; under warn (logged) and skip the value is
     * replaced by the change's entry, as if the key had been absent. False when the lane stops.
     */
    private boolean undecodable(CacheProtocol.Write w) {
        metrics.undecodable.incrementAndGet();
        if (onBadData == BadDataPolicy.FAIL) {
            String raw = side.get(w.key());
            aborted = true;
            fail.accept(UndecodableEntryException.at(side.name(), w.key(), raw));
            return false;
        }
        CasOutcome o = protocol.replaceUndecodable(side, w.key(), w.entry());
        if (onBadData == BadDataPolicy.WARN) {
            log.warn("lane {}: key {} held an undecodable value; {} (sync.on-bad-data=warn)", name, w.key(),
                    o == CasOutcome.UNDECODABLE ? "it still does, left for 'rpctl inspect --repair'"
                            : "replaced by the change's " + w.entry().kind().label());
        }
        return true;
    }

    /** Writes the batch until it goes through; false when aborted meanwhile. */
    private boolean write(List<CacheProtocol.Write> writes) throws InterruptedException {
        if (writes.isEmpty()) {
            return true;
        }
        long backoff = 50;
        while (!aborted) {
            try {
                List<CasOutcome> outcomes = protocol.putAll(side, writes);
                retryingSinceMillis = 0;
                metrics.writes.addAndGet(writes.size());
                for (int i = 0; i < outcomes.size(); i++) {
                    if (outcomes.get(i) == CasOutcome.UNDECODABLE && !undecodable(writes.get(i))) {
                        return false;
                    }
                }
                return true;
            } catch (RuntimeException e) {
                if (e instanceof RpctlException denied && denied.exitCode() == ExitCode.NOPERM) {
                    // the side's ACL user may not run what rpctl runs: no retry makes that pass
                    aborted = true;
                    fail.accept(denied);
                    return false;
                }
                metrics.retries.incrementAndGet();
                retryError = RpctlException.rootMessage(e);
                if (retryingSinceMillis == 0) {
                    retryingSinceMillis = System.currentTimeMillis();
                }
                if (backoff == 50 || backoff >= 5000) {
                    log.warn("lane {}: writing {} entries to side {} failed ({}); retrying the same batch",
                            name, writes.size(), side.name(), RpctlException.rootMessage(e));
                }
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, 5000);
            }
        }
        return false;
    }
}
