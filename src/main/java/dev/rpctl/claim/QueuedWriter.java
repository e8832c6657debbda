package dev.rpctl.claim;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.CasOutcome;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.rpctl.claim.WriteThrough.log;

/** The thread that writes one Cluster or Sentinel side: every batch queued, in one pipelined round. */
final class QueuedWriter implements Runnable {
    /** Batches waiting for one side; a side that far behind is counted as missed. */
    private static final int QUEUED_BATCHES = 4096;
    /** Batches one round of a side writer takes at most. */
    private static final int BATCHES_PER_ROUND = 64;

    private final WriteThrough owner;
    private final int index;
    private final CacheSide side;
    private final BlockingQueue<WriteBatch> queue = new ArrayBlockingQueue<>(QUEUED_BATCHES);
    final Thread thread;

    QueuedWriter(WriteThrough owner, int index, CacheSide side) {
        this.owner = owner;
        this.index = index;
        this.side = side;
        this.thread = new Thread(this, "write-through-" + side.name());
        thread.setDaemon(true);
    }

    void offer(WriteBatch b) {
        if (owner.closed() || !queue.offer(b)) {
            owner.failed(index);
            log.warn("write-through to side {}: {} batches already waiting, or closing; {} entries left to the binlog pipeline",
                    side.name(), queue.size(), b.writes.size());
            b.answer(index, false);
        }
    }

    @Override
    public void run() {
        List<WriteBatch> round = new ArrayList<>(BATCHES_PER_ROUND);
        List<CacheProtocol.Write> writes = new ArrayList<>();
        // after close, what was queued before it is still written: those claims are committed
        while (!owner.closed() || !queue.isEmpty()) {
            try {
                WriteBatch first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                round.add(first);
            } catch (InterruptedException e) {
                break;
            }
            queue.drainTo(round, BATCHES_PER_ROUND - 1);
            for (WriteBatch b : round) {
                writes.addAll(b.writes);
            }
            Map<String, RpctlException> badData = writeSide(writes);
            for (WriteBatch b : round) {
                if (badData != null) {
                    b.badData(badData);
                }
                b.answer(index, badData != null);
            }
            round.clear();
            writes.clear();
        }
        for (WriteBatch b; (b = queue.poll()) != null; ) {
            b.answer(index, false);
        }
    }

    /** Writes the rows; the bad data met (see {@link WriteThrough#undecodable}), or null when the side missed them. */
    private Map<String, RpctlException> writeSide(List<CacheProtocol.Write> writes) {
        RuntimeException last = null;
        for (int attempt = 0; attempt <= owner.retries; attempt++) {
            List<CasOutcome> outcomes;
            try {
                outcomes = writes.size() == 1
                        ? List.of(owner.protocol.put(side, writes.get(0).key(), writes.get(0).entry()))
                        : owner.protocol.putAll(side, writes);
            } catch (RuntimeException e) {
                last = e;
                if (attempt < owner.retries && !sleep(10L << attempt)) {
                    break;
                }
                continue;
            }
            return owner.undecodable(index, side, writes, outcomes);
        }
        owner.failed(index);
        log.warn("write-through of {} entries to side {} failed after {} attempts: {}; the binlog pipeline will apply them",
                writes.size(), side.name(), owner.retries + 1, last.getMessage());
        return null;
    }

    private static boolean sleep(long ms) {
        try {
            Thread.sleep(ms);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
