package dev.rpctl.claim;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.SideLink;
import dev.rpctl.protocol.CacheProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes committed rows to every side at once, with bounded retries. A side that fails does not
 * fail the claim: it is logged and counted, and the binlog pipeline applies the same change later.
 * <p>A single Redis is written by the caller itself, on a connection of its own: the caller puts
 * the batch on the wire to every such side first and then reads their replies, so the sides are
 * written in parallel with no thread hand-off, and a reply that has not come by the batch's
 * deadline is given up (the socket timeout is what is left of it). A side that timed out or
 * could not be reached is skipped for a second, so a hung server costs one timeout, not one per
 * claim. A Redis Cluster or Sentinel side, whose topology jedis follows, has one writer thread
 * that takes every batch queued for it and writes them in one pipelined round; the watchdog
 * answers for it when a batch's timeout passes first.
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
    private final List<String> names = new ArrayList<>();
    /** Per side index: written by the caller (a single Redis) rather than by a writer thread. */
    private final boolean[] isDirect;
    private final List<DirectSide> direct = new ArrayList<>();
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
        this.isDirect = new boolean[sides.size()];
        for (CacheSide s : sides) {
            isDirect[names.size()] = s.single();
            failures.put(s.name(), new AtomicLong());
            if (s.single()) {
                direct.add(new DirectSide(names.size(), s));
            } else {
                writers.add(new SideWriter(names.size(), s));
            }
            names.add(s.name());
        }
        this.watchdog = new Thread(this::watch, "write-through-watchdog");
        watchdog.setDaemon(true);
        if (!writers.isEmpty()) {
            writers.forEach(w -> w.thread.start());
            watchdog.start();
        }
    }

    /**
     * Writes the rows to all sides; completes with the sides that could not be written (in time).
     * The single-Redis sides are written before this returns, on this thread; the future completes
     * on it too unless a Cluster or Sentinel side answers last (on its writer's thread) or times
     * out (on the watchdog's).
     */
    public CompletableFuture<List<String>> submit(List<CacheProtocol.Write> writes) {
        if (names.isEmpty() || writes.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        Batch b = new Batch(writes, System.nanoTime() + timeout.toNanos());
        if (!writers.isEmpty()) {
            inFlight.add(b);
        }
        if (closed) {
            b.expire("not written: shutting down", false);
            return b.done;
        }
        for (SideWriter w : writers) {
            w.offer(b);
        }
        if (!direct.isEmpty()) {
            DirectSide.Round[] rounds = new DirectSide.Round[direct.size()];
            // sides with a connection first, those that must connect after: a side that hangs in
            // its handshake does not hold back the others' writes
            for (int i = 0; i < rounds.length; i++) {
                if (!direct.get(i).idle.isEmpty()) {
                    rounds[i] = direct.get(i).send(b, 0);
                }
            }
            for (int i = 0; i < rounds.length; i++) {
                if (rounds[i] == null && !b.answered(i)) {
                    rounds[i] = direct.get(i).send(b, 0);
                }
            }
            for (int i = 0; i < rounds.length; i++) {
                if (rounds[i] != null) {
                    direct.get(i).receive(b, rounds[i]);
                }
            }
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
        private final boolean[] answered = new boolean[names.size()];
        private final List<String> failed = new ArrayList<>(0);
        private int waiting = names.size();
        final long deadlineNanos;

        Batch(List<CacheProtocol.Write> writes, long deadlineNanos) {
            this.writes = writes;
            this.deadlineNanos = deadlineNanos;
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
                    failed.add(names.get(side));
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
                    if (!answered[i] && !(queuedOnly && isDirect[i])) {
                        answered[i] = true;
                        waiting--;
                        String name = names.get(i);
                        failed.add(name);
                        failures.get(name).incrementAndGet();
                        log.warn("write-through of {} entries to side {} {}; the binlog pipeline will apply them",
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

    /** A single Redis, written by the submitting thread on links (connections) of its own. */
    private final class DirectSide {
        /** How long a side that timed out or could not be reached is left alone. */
        private static final long DOWN_NANOS = 1_000_000_000L;

        final int index;
        final CacheSide side;
        final ConcurrentLinkedDeque<SideLink> idle = new ConcurrentLinkedDeque<>();
        /** Links in use, so that close() can break a read a hung server holds. */
        final Set<SideLink> busy = ConcurrentHashMap.newKeySet();
        /** Sockets of links still connecting: close() breaks a handshake a hung server holds. */
        final Set<Socket> connecting = ConcurrentHashMap.newKeySet();
        volatile long downUntil;
        volatile boolean down;

        /** A batch on the wire, waiting for its replies. */
        record Round(SideLink link, CacheProtocol.Sent sent, int attempt) {}

        DirectSide(int index, CacheSide side) {
            this.index = index;
            this.side = side;
        }

        /** Puts the batch on the wire; null when it could not (the batch is then answered for this side). */
        Round send(Batch b, int attempt) {
            if (down && System.nanoTime() - downUntil < 0) {
                miss(b, null);
                return null;
            }
            SideLink link = null;
            try {
                link = idle.pollFirst();
                if (link == null) {
                    Socket[] socket = new Socket[1];
                    try {
                        link = side.openLink(Duration.ofNanos(timeLeft(b)),
                                s -> {
                                    socket[0] = s;
                                    connecting.add(s);
                                    if (closed) {
                                        closeQuietly(s);
                                    }
                                });
                    } finally {
                        if (socket[0] != null) {
                            connecting.remove(socket[0]);
                        }
                    }
                }
                busy.add(link);
                if (closed) {
                    throw new IllegalStateException("shutting down");
                }
                return new Round(link, protocol.send(link, b.writes), attempt);
            } catch (RuntimeException e) {
                discard(link);
                closeIdle();
                if (attempt < retries && !closed && b.deadlineNanos - System.nanoTime() > 0) {
                    return send(b, attempt + 1);
                }
                trip(e);
                miss(b, e);
                return null;
            }
        }

        /** Reads the replies of a round until the batch's deadline, and answers the batch for this side. */
        void receive(Batch b, Round r) {
            try {
                r.link().setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeLeft(b))));
                warnUndecodable(side, b.writes, protocol.receive(r.link(), r.sent()));
                busy.remove(r.link());
                idle.addFirst(r.link());
                if (closed) {
                    // close() may have emptied idle before this link came back
                    closeIdle();
                }
                if (down) {
                    down = false;
                    log.info("write-through to side {} works again", side.name());
                }
                b.answer(index, true);
            } catch (RuntimeException e) {
                // the link may still owe replies: it is not used again
                discard(r.link());
                boolean timedOut = e.getCause() instanceof SocketTimeoutException || b.deadlineNanos - System.nanoTime() <= 0;
                if (!timedOut && !closed && r.attempt() < retries) {
                    // a broken connection (a restarted server): the idle links are likely broken
                    // too, so they go, and the batch goes once more on a new one
                    closeIdle();
                    Round again = send(b, r.attempt() + 1);
                    if (again != null) {
                        receive(b, again);
                    }
                    return;
                }
                trip(e);
                miss(b, e);
            }
        }

        /**
         * The time this side has to connect or to answer: what is left of the batch's timeout, but
         * at least a quarter of it, so that another side's slow handshake never uses up this
         * side's time (a healthy side's reply is in its socket long before).
         */
        private long timeLeft(Batch b) {
            return Math.max(b.deadlineNanos - System.nanoTime(), Math.max(1_000_000L, timeout.toNanos() / 4));
        }

        private void discard(SideLink link) {
            if (link != null) {
                busy.remove(link);
                try {
                    link.close();
                } catch (RuntimeException ignored) {
                    // already broken
                }
            }
        }

        /** Leaves the side alone for a while after a timeout or a failure to reach it. */
        private void trip(RuntimeException e) {
            if (closed) {
                return;
            }
            downUntil = System.nanoTime() + DOWN_NANOS;
            if (!down) {
                down = true;
                log.warn("write-through to side {} ({}) failed: {}; the side is skipped for {} s at a time until it "
                        + "answers again, and the binlog pipeline applies what it misses", side.name(), side.address(),
                        e.getMessage(), TimeUnit.NANOSECONDS.toSeconds(DOWN_NANOS));
            }
        }

        private void miss(Batch b, RuntimeException e) {
            failures.get(side.name()).incrementAndGet();
            if (e != null && !down) {
                log.warn("write-through of {} entries to side {} failed: {}; the binlog pipeline will apply them",
                        b.writes.size(), side.name(), e.getMessage());
            }
            b.answer(index, false);
        }

        private void closeIdle() {
            for (SideLink l; (l = idle.pollFirst()) != null; ) {
                l.close();
            }
        }

        void close() {
            closeIdle();
            // a caller blocked on a hung server's reply gets a closed socket and answers its batch
            connecting.forEach(WriteThrough::closeQuietly);
            List.copyOf(busy).forEach(this::discard);
        }
    }

    /** The thread that writes one Cluster or Sentinel side: every batch queued, in one pipelined round. */
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
                    warnUndecodable(side, writes, writes.size() == 1
                            ? List.of(protocol.put(side, writes.get(0).key(), writes.get(0).entry()))
                            : protocol.putAll(side, writes));
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

    private static void warnUndecodable(CacheSide side, List<CacheProtocol.Write> writes, List<CacheProtocol.Outcome> outcomes) {
        for (int i = 0; i < outcomes.size(); i++) {
            if (outcomes.get(i) == CacheProtocol.Outcome.UNDECODABLE) {
                log.warn("side {}: {} holds an undecodable value; left for 'rpctl inspect --repair'",
                        side.name(), writes.get(i).key());
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing is all that was asked
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
                    b.expire("timed out after " + timeout, true);
                }
                inFlight.remove(b);
            }
            LockSupport.parkNanos(this, Math.max(sleep, 100_000L));
        }
    }

    /** Writes what is queued (for at most a few seconds), then stops the writers and closes the links. */
    @Override
    public void close() {
        closed = true;
        for (DirectSide d : direct) {
            d.close();
        }
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
            b.expire("not written: shutting down", false);
        }
        watchdog.interrupt();
    }
}
