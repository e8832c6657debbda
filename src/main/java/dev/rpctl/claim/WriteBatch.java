package dev.rpctl.claim;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.protocol.CacheProtocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;

/** One caller's rows on their way through {@link WriteThrough}, answered once per side. */
final class WriteBatch {
    final List<CacheProtocol.Write> writes;
    /** Completes with the sides that missed the rows, and the bad data met, once every side has answered. */
    final CompletableFuture<WriteThrough.Written> done = new CompletableFuture<>();
    /** Undecodable entries met under sync.on-bad-data=fail, by key; set before the side that met them answers. */
    private final Map<String, RpctlException> badData = new ConcurrentHashMap<>(0);
    final long deadlineNanos;
    private final WriteThrough sides;
    private final boolean[] answered;
    private final List<String> failed = new ArrayList<>(0);
    private int waiting;

    WriteBatch(WriteThrough sides, List<CacheProtocol.Write> writes, long deadlineNanos) {
        this.sides = sides;
        this.writes = writes;
        this.deadlineNanos = deadlineNanos;
        this.answered = new boolean[sides.sides()];
        this.waiting = answered.length;
    }

    /** Keeps the bad data of this batch's keys. */
    void badData(Map<String, RpctlException> met) {
        if (met.isEmpty()) {
            return;
        }
        for (CacheProtocol.Write w : writes) {
            RpctlException e = met.get(w.key());
            if (e != null) {
                badData.putIfAbsent(w.key(), e);
            }
        }
    }

    private WriteThrough.Written written(List<String> failedSides) {
        return new WriteThrough.Written(failedSides, badData.isEmpty() ? Map.of() : Map.copyOf(badData));
    }

    synchronized boolean answered(int side) {
        return answered[side];
    }

    void answer(int side, boolean ok) {
        WriteThrough.Written result;
        synchronized (this) {
            if (answered[side] || waiting == 0) {
                return;
            }
            answered[side] = true;
            if (!ok) {
                failed.add(sides.name(side));
            }
            if (--waiting > 0) {
                return;
            }
            result = written(List.copyOf(failed));
        }
        done.complete(result);
    }

    /**
     * Every side that has not answered missed this batch; with queuedOnly, only the Cluster
     * and Sentinel sides: a single-Redis side is answered by the thread reading its replies,
     * within its own socket timeout.
     */
    void expire(String why, boolean queuedOnly) {
        WriteThrough.Written result;
        synchronized (this) {
            if (waiting == 0) {
                return;
            }
            for (int i = 0; i < answered.length; i++) {
                if (!answered[i] && !(queuedOnly && sides.isDirect(i))) {
                    answered[i] = true;
                    waiting--;
                    String name = sides.name(i);
                    failed.add(name);
                    sides.failed(i);
                    WriteThrough.log.warn("write-through of {} entries to side {} {}; the binlog pipeline will apply them",
                            writes.size(), name, why);
                }
            }
            if (waiting > 0) {
                return;
            }
            result = written(List.copyOf(failed));
        }
        done.complete(result);
    }
}
