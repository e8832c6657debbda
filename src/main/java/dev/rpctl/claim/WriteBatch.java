package dev.rpctl.claim;

import dev.rpctl.protocol.CacheProtocol;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** One caller's rows on their way through {@link WriteThrough}, answered once per side. */
final class WriteBatch {
    final List<CacheProtocol.Write> writes;
    /** Completes with the sides that missed the rows once every side has answered. */
    final CompletableFuture<List<String>> done = new CompletableFuture<>();
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

    synchronized boolean answered(int side) {
        return answered[side];
    }

    void answer(int side, boolean ok) {
        List<String> result;
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
            result = List.copyOf(failed);
        }
        done.complete(result);
    }

    /**
     * Every side that has not answered missed this batch; with queuedOnly, only the Cluster
     * and Sentinel sides: a single-Redis side is answered by the thread reading its replies,
     * within its own socket timeout.
     */
    void expire(String why, boolean queuedOnly) {
        List<String> result;
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
            result = List.copyOf(failed);
        }
        done.complete(result);
    }
}
