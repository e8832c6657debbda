package dev.rpctl.sync;

import dev.rpctl.RpctlException;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.Entry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * One ordered lane of a pipeline: a bounded queue and the thread that empties it. It takes what
 * is there (waiting only for the first item, never on a timer), writes it as one pipelined
 * compare-and-set batch, and loops. A failed batch is retried whole, so one user's changes are
 * never reordered; a full queue blocks the binlog reader of this side only.
 */
final class Lane implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Lane.class);

    /** A cache write (key and entry) or a heartbeat (key null), and the transaction it belongs to. */
    record Item(String key, Entry entry, TxTracker.Tx tx, long beatMillis, long rowMillis) {}

    static final Item STOP = new Item(null, null, null, -1, -1);

    private final String name;
    private final BlockingQueue<Item> queue;
    private final int batchSize;
    private final CacheSide side;
    private final CacheProtocol protocol;
    private final SyncMetrics metrics;
    private volatile boolean aborted;

    Lane(String name, int capacity, int batchSize, CacheSide side, CacheProtocol protocol, SyncMetrics metrics) {
        this.name = name;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.batchSize = batchSize;
        this.side = side;
        this.protocol = protocol;
        this.metrics = metrics;
    }

    void put(Item item) throws InterruptedException {
        queue.put(item);
    }

    /** Asks the lane to finish what it holds and end; false when the queue stayed full. */
    boolean offerStop() {
        try {
            return queue.offer(STOP, 2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    int depth() {
        return queue.size();
    }

    void abort() {
        aborted = true;
    }

    @Override
    public void run() {
        List<Item> batch = new ArrayList<>(batchSize);
        List<CacheProtocol.Write> writes = new ArrayList<>(batchSize);
        try {
            boolean stop = false;
            while (!stop && !aborted) {
                batch.clear();
                batch.add(queue.take());
                queue.drainTo(batch, batchSize - 1);
                int end = batch.indexOf(STOP);
                if (end >= 0) {
                    stop = true;
                    batch.subList(end, batch.size()).clear();
                }
                writes.clear();
                for (Item i : batch) {
                    if (i.key() != null) {
                        writes.add(new CacheProtocol.Write(i.key(), i.entry()));
                    }
                }
                if (!write(writes)) {
                    return;
                }
                long now = System.currentTimeMillis();
                for (Item i : batch) {
                    if (i.key() == null) {
                        metrics.heartbeatLag(now - i.beatMillis());
                    } else if (i.rowMillis() > 0) {
                        metrics.rowLag(now - i.rowMillis());
                    }
                    i.tx().done();
                }
                metrics.rowsApplied.addAndGet(writes.size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes the batch until it goes through; false when aborted meanwhile. */
    private boolean write(List<CacheProtocol.Write> writes) throws InterruptedException {
        if (writes.isEmpty()) {
            return true;
        }
        long backoff = 50;
        while (!aborted) {
            try {
                List<CacheProtocol.Outcome> outcomes = protocol.putAll(side, writes);
                metrics.writes.addAndGet(writes.size());
                for (int i = 0; i < outcomes.size(); i++) {
                    if (outcomes.get(i) == CacheProtocol.Outcome.UNDECODABLE) {
                        metrics.undecodable.incrementAndGet();
                        log.warn("lane {}: key {} holds an undecodable entry; left for 'rpctl inspect --repair'",
                                name, writes.get(i).key());
                    }
                }
                return true;
            } catch (RuntimeException e) {
                metrics.retries.incrementAndGet();
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
