package dev.rpctl.sync;

import dev.rpctl.binlog.BinlogPosition;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which transactions are fully applied. A transaction holds one count for "not yet committed"
 * plus one per row change handed to a lane; it is done at zero. The checkpoint is the end of the
 * newest transaction such that it and every one before it are done, whatever order the lanes
 * finish in. A prepared XA transaction is held: it keeps its count for "not yet committed" until
 * its XA COMMIT's rows are handed over under it (or its XA ROLLBACK is read), so the checkpoint
 * stays below its prepare and a restart reads the prepare again.
 * <p>
 * Behind a held transaction, each run of finished ones is kept as its newest alone (the
 * checkpoint can only ever move to the end of a run), so however long a prepare waits, memory
 * is bounded by the transactions still unfinished, not by how many were read since.
 */
final class TxTracker {

    static final class Tx {
        private final AtomicInteger pending = new AtomicInteger(1);
        private volatile BinlogPosition end;
        private boolean rows;

        void add() {
            pending.incrementAndGet();
            rows = true;
        }

        void done() {
            pending.decrementAndGet();
        }

        boolean finished() {
            return pending.get() == 0;
        }
    }

    /** Open transactions beyond which {@link #advance()} folds finished runs behind an unfinished head. */
    static final int FOLD_AT = 64;

    private ArrayDeque<Tx> open = new ArrayDeque<>();
    private BinlogPosition lastDone;
    private Tx current;

    TxTracker(BinlogPosition start) {
        this.lastDone = start;
    }

    /** The transaction being read; reader thread only. */
    Tx current() {
        if (current == null) {
            current = new Tx();
            synchronized (this) {
                open.addLast(current);
            }
        }
        return current;
    }

    /** The transaction being read ends at {@code end}; reader thread only. */
    void commit(BinlogPosition end) {
        Tx t = current;
        current = null;
        if (t == null) {
            // no mapped rows: done at once; fold it into the tail instead of growing the queue
            synchronized (this) {
                Tx tail = open.peekLast();
                if (tail == null) {
                    lastDone = end;
                } else if (!tail.rows && tail.finished()) {
                    tail.end = end;
                } else {
                    Tx empty = new Tx();
                    empty.end = end;
                    empty.done();
                    open.addLast(empty);
                }
            }
            return;
        }
        t.end = end;
        t.done();
    }

    /**
     * The transaction being read is an XA prepare ending at {@code end}: it stays open, whatever
     * comes after it, until its resolution adds its rows and calls {@link Tx#done()}; reader thread only.
     */
    Tx hold(BinlogPosition end) {
        Tx t = current();
        current = null;
        // never folded into: a later transaction without rows must not move its end
        t.rows = true;
        t.end = end;
        return t;
    }

    /** The transaction being read will be read again: what it handed over counts up to {@code resumeFrom}. */
    void abandon(BinlogPosition resumeFrom) {
        Tx t = current;
        current = null;
        if (t != null) {
            t.end = resumeFrom;
            t.done();
        }
    }

    /** Moves past the finished prefix and returns the newest position below which all is applied. */
    synchronized BinlogPosition advance() {
        Tx head;
        while ((head = open.peekFirst()) != null && head.finished()) {
            open.pollFirst();
            lastDone = head.end;
        }
        if (open.size() > FOLD_AT) {
            fold();
        }
        return lastDone;
    }

    /** Keeps only the newest of each run of finished transactions; a finished one never reopens. */
    private void fold() {
        ArrayDeque<Tx> kept = new ArrayDeque<>(open.size());
        for (Tx t : open) {
            Tx last = kept.peekLast();
            if (last != null && last.finished() && t.finished()) {
                kept.pollLast();
            }
            kept.addLast(t);
        }
        open = kept;
    }

    synchronized int openTransactions() {
        return open.size();
    }
}
