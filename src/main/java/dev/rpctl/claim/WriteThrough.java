package dev.rpctl.claim;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.protocol.CacheProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes committed rows to every side at once, with bounded retries. A side that fails does not
 * fail the claim: it is logged and counted, and the binlog pipeline applies the same change later.
 * <p>Each side has one writer thread that takes every batch queued for it and writes them in one
 * pipelined round of compare-and-set calls, so under load many claim groups share a round trip
 * and a script call, and one side never waits for the other. A batch is answered when every side
 * has answered it or its timeout has passed, whichever comes first: one watchdog thread wakes at
 * the oldest unanswered batch's deadline, so a claim costs no timer of its own.
 */
public final class WriteThrough implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WriteThrough.class);
    /** Batches waiting for one side; a side that far behind is counted as missed. */
    private static final int QUEUED_BATCHES = 4096;
    /** Batches one round of a side writer takes at most. */
    private static final int BATCHES_PER_ROUND = 64;

    private final CacheProtocol protocol;
    private final int retries;
    private final Duration timeout;
    private final List<SideWriter> writers = new ArrayList<>();
    private final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
    /**
     * Batches in the order they were submitted, so in the order of their deadlines; the watchdog
     * drops the answered ones from the head and answers those past their deadline. close()
     * answers what is left.
     */
    private final ConcurrentLinkedQueue<Batch> inFlight = new ConcurrentLinkedQueue<>();
    private final Thread watchdog;
    private volatile boolean closed;

    public WriteThrough(CacheProtocol protocol, List<CacheSide> sides, int retries, Duration timeout) {
        this.protocol = protocol;
        this.retries = retries;
        this.timeout = timeout;
        for (CacheSide s : sides) {
            failures.put(s.name(), new AtomicLong());
            writers.add(new SideWriter(writers.size(), s));
        }
        this.watchdog = new Thread(this::watch, "write-through-watchdog");
        watchdog.setDaemon(true);
        if (!writers.isEmpty()) {
            writers.forEach(w -> w.thread.start());
            watchdog.start();
        }
    }

    /**
     * Writes the rows to all sides; completes with the sides that could not be written (in time),
     * on the thread of the side that answered last, or of the watchdog.
     */
    public CompletableFuture<List<String>> submit(List<CacheProtocol.Write> writes) {
        if (writers.isEmpty() || writes.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        Batch b = new Batch(writes, System.nanoTime() + timeout.toNanos());
        inFlight.add(b);
        if (closed) {
            b.expire("not written: shutting down");
            return b.done;
        }
        for (SideWriter w : writers) {
            w.offer(b);
        }
        return b.done;
    }

    /** Writes the rows to all sides and waits; returns the sides that could not be written. */
    public List<String> write(List<CacheProtocol.Write> writes) {
        return submit(writes).join();
    }

    public long failures(String side) {
        AtomicLong a = failures.get(side);
        return a == null ? 0 : a.get();
    }

    /** One caller's rows, answered once per side. */
    private final class Batch {
        final List<CacheProtocol.Write> writes;
        final CompletableFuture<List<String>> done = new CompletableFuture<>();
        private final boolean[] answered = new boolean[writers.size()];
        private final List<String> failed = new ArrayList<>(0);
        private int waiting = writers.size();
        final long deadlineNanos;

        Batch(List<CacheProtocol.Write> writes, long deadlineNanos) {
            this.writes = writes;
            this.deadlineNanos = deadlineNanos;
        }

        void answer(int side, boolean ok) {
            List<String> result;
            synchronized (this) {
                if (answered[side] || waiting == 0) {
                    return;
                }
                answered[side] = true;
                if (!ok) {
                    failed.add(writers.get(side).side.name());
                }
                if (--waiting > 0) {
                    return;
                }
                result = List.copyOf(failed);
            }
            done.complete(result);
        }

        /** The timeout passed, or the write-through closed: every side that has not answered missed this batch. */
        void expire(String why) {
            List<String> result;
            synchronized (this) {
                if (waiting == 0) {
                    return;
                }
                for (int i = 0; i < answered.length; i++) {
                    if (!answered[i]) {
                        answered[i] = true;
                        String name = writers.get(i).side.name();
                        failed.add(name);
                        failures.get(name).incrementAndGet();
                        log.warn("write-through of {} entries to side {} {}; the binlog pipeline will apply them",
                                writes.size(), name, why);
                    }
                }
                waiting = 0;
                result = List.copyOf(failed);
            }
            done.complete(result);
        }
    }

    /** The thread that writes one side: every batch queued, in one pipelined round. */
    private final class SideWriter implements Runnable {
        final int index;
        final CacheSide side;
        final BlockingQueue<Batch> queue = new ArrayBlockingQueue<>(QUEUED_BATCHES);
        final Thread thread;

        SideWriter(int index, CacheSide side) {
            this.index = index;
            this.side = side;
            this.thread = new Thread(this, "write-through-" + side.name());
            thread.setDaemon(true);
        }

        void offer(Batch b) {
            if (closed || !queue.offer(b)) {
                failures.get(side.name()).incrementAndGet();
                log.warn("write-through to side {}: {} batches already waiting, or closing; {} entries left to the binlog pipeline",
                        side.name(), queue.size(), b.writes.size());
                b.answer(index, false);
            }
        }

        @Override
        public void run() {
            List<Batch> round = new ArrayList<>(BATCHES_PER_ROUND);
            List<CacheProtocol.Write> writes = new ArrayList<>();
            // after close, what was queued before it is still written: those claims are committed
            while (!closed || !queue.isEmpty()) {
                try {
                    Batch first = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    round.add(first);
                } catch (InterruptedException e) {
                    break;
                }
                queue.drainTo(round, BATCHES_PER_ROUND - 1);
                for (Batch b : round) {
                    writes.addAll(b.writes);
                }
                boolean ok = writeSide(writes);
                for (Batch b : round) {
                    b.answer(index, ok);
                }
                round.clear();
                writes.clear();
            }
            for (Batch b; (b = queue.poll()) != null; ) {
                b.answer(index, false);
            }
        }

        private boolean writeSide(List<CacheProtocol.Write> writes) {
            RuntimeException last = null;
            for (int attempt = 0; attempt <= retries; attempt++) {
                try {
                    List<CacheProtocol.Outcome> outcomes = writes.size() == 1
                            ? List.of(protocol.put(side, writes.get(0).key(), writes.get(0).entry()))
                            : protocol.putAll(side, writes);
                    for (int i = 0; i < outcomes.size(); i++) {
                        if (outcomes.get(i) == CacheProtocol.Outcome.UNDECODABLE) {
                            log.warn("side {}: {} holds an undecodable value; left for 'rpctl inspect --repair'",
                                    side.name(), writes.get(i).key());
                        }
                    }
                    return true;
                } catch (RuntimeException e) {
                    last = e;
                    if (attempt < retries && !sleep(10L << attempt)) {
                        break;
                    }
                }
            }
            failures.get(side.name()).incrementAndGet();
            log.warn("write-through of {} entries to side {} failed after {} attempts: {}; the binlog pipeline will apply them",
                    writes.size(), side.name(), retries + 1, last.getMessage());
            return false;
        }
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

    /**
     * Answers the batches past their deadline. It sleeps until the oldest unanswered batch's
     * deadline, or one timeout when there is none (a batch submitted later has a later deadline),
     * so it wakes a few times a second however many claims go by.
     */
    private void watch() {
        while (!closed) {
            long now = System.nanoTime();
            long sleep = timeout.toNanos();
            for (Batch b; (b = inFlight.peek()) != null; ) {
                if (!b.done.isDone()) {
                    long left = b.deadlineNanos - now;
                    if (left > 0) {
                        sleep = left;
                        break;
                    }
                    b.expire("timed out after " + timeout);
                }
                inFlight.remove(b);
            }
            LockSupport.parkNanos(this, Math.max(sleep, 100_000L));
        }
    }

    /** Writes what is queued (for at most a few seconds), then stops the writers. */
    @Override
    public void close() {
        closed = true;
        for (SideWriter w : writers) {
            try {
                w.thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (SideWriter w : writers) {
            w.thread.interrupt();
        }
        // a writer stuck on a hung side, or a batch offered as the writers stopped: answer them now
        for (Batch b; (b = inFlight.poll()) != null; ) {
            b.expire("not written: shutting down");
        }
        watchdog.interrupt();
    }
}
