package dev.rpctl.sync;

import java.util.ArrayDeque;

/**
 * Which messages of one partition are fully applied, for an applier's offset commits: each
 * message read holds a {@link TxTracker.Tx} (one count for "being routed" plus one per change
 * handed to a lane), and the offset to commit is the one after the newest message such that it
 * and every one before it are done, whatever order the lanes finish in.
 */
final class OffsetTracker {
    private record Read(long offset, TxTracker.Tx tx) {}

    private final ArrayDeque<Read> open = new ArrayDeque<>();
    /** The next offset to commit; -1 before the first message is done. */
    private long next = -1;

    /** The message at {@code offset} is being routed; the caller calls {@link TxTracker.Tx#done()} once it has. */
    synchronized TxTracker.Tx read(long offset) {
        TxTracker.Tx t = new TxTracker.Tx();
        open.addLast(new Read(offset, t));
        return t;
    }

    /** The offset below which every message is applied; -1 while none is. */
    synchronized long advance() {
        Read head;
        while ((head = open.peekFirst()) != null && head.tx().finished()) {
            open.pollFirst();
            next = head.offset() + 1;
        }
        return next;
    }

    /** Whether every message read is applied. */
    synchronized boolean idle() {
        advance();
        return open.isEmpty();
    }
}
