package dev.rpctl.claim;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.config.BadDataPolicy;
import dev.rpctl.config.Keys;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.CasOutcome;
import dev.rpctl.protocol.UndecodableEntryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Writes committed rows to every side at once, with bounded retries. A side that fails does not
 * fail the claim: it is logged and counted, and the binlog pipeline applies the same change later.
 * <p>A single Redis is written by the caller itself, on a link of its own ({@link DirectWriter}):
 * the caller puts the batch on the wire to every such side first and then reads their replies, so
 * the sides are written in parallel with no thread hand-off, and a reply that has not come by the
 * batch's deadline is given up (the socket timeout is what is left of it). A side that timed out
 * or could not be reached is skipped for a second, so a hung server costs one timeout, not one per
 * claim. A Redis Cluster or Sentinel side, whose topology jedis follows, has one writer thread
 * ({@link QueuedWriter}) that takes every batch queued for it and writes them in one pipelined
 * round; the watchdog answers for it when a batch's timeout passes first.
 */
public final class WriteThrough implements AutoCloseable {
    static final Logger log = LoggerFactory.getLogger(WriteThrough.class);

    /** What a batch's write-through did: the sides that missed it; undecodable entries met under sync.on-bad-data=fail, by key. */
    public record Written(List<String> failedSides, Map<String, RpctlException> badData) {
        static final Written NONE = new Written(List.of(), Map.of());
    }

    final CacheProtocol protocol;
    final int retries;
    final Duration timeout;
    private final BadDataPolicy onBadData;
    private final AtomicLong[] undecodable;
    private final List<String> names = new ArrayList<>();
    /** Per side index: written by the caller (a single Redis) rather than by a writer thread. */
    private final boolean[] isDirect;
    private final AtomicLong[] failures;
    private final List<DirectWriter> direct = new ArrayList<>();
    private final List<QueuedWriter> writers = new ArrayList<>();
    /**
     * Batches in the order they were submitted, so in the order of their deadlines; the watchdog
     * drops the answered ones from the head and answers those past their deadline. close()
     * answers what is left.
     */
    private final ConcurrentLinkedQueue<WriteBatch> inFlight = new ConcurrentLinkedQueue<>();
    private final Thread watchdog;
    private volatile boolean closed;

    /** A write-through under the key table's default sync.on-bad-data. */
    public WriteThrough(CacheProtocol protocol, List<CacheSide> sides, int retries, Duration timeout) {
        this(protocol, sides, retries, timeout, Keys.SYNC_ON_BAD_DATA.defaultValue());
    }

    public WriteThrough(CacheProtocol protocol, List<CacheSide> sides, int retries, Duration timeout, BadDataPolicy onBadData) {
        this.protocol = protocol;
        this.retries = retries;
        this.timeout = timeout;
        this.onBadData = onBadData;
        this.isDirect = new boolean[sides.size()];
        this.failures = new AtomicLong[sides.size()];
        this.undecodable = new AtomicLong[sides.size()];
        for (CacheSide s : sides) {
            int i = names.size();
            isDirect[i] = s.single();
            failures[i] = new AtomicLong();
            undecodable[i] = new AtomicLong();
            if (s.single()) {
                direct.add(new DirectWriter(this, i, s));
            } else {
                writers.add(new QueuedWriter(this, i, s));
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
    public CompletableFuture<Written> submit(List<CacheProtocol.Write> writes) {
        if (names.isEmpty() || writes.isEmpty()) {
            return CompletableFuture.completedFuture(Written.NONE);
        }
        WriteBatch b = new WriteBatch(this, writes, System.nanoTime() + timeout.toNanos());
        if (!writers.isEmpty()) {
            inFlight.add(b);
        }
        if (closed) {
            b.expire("not written: shutting down", false);
            return b.done;
        }
        for (QueuedWriter w : writers) {
            w.offer(b);
        }
        if (!direct.isEmpty()) {
            DirectWriter.Round[] rounds = new DirectWriter.Round[direct.size()];
            // sides with a connection first, those that must connect after: a side that hangs in
            // its handshake does not hold back the others' writes
            for (int i = 0; i < rounds.length; i++) {
                if (direct.get(i).connected()) {
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
        return submit(writes).join().failedSides();
    }

    public long failures(String side) {
        int i = names.indexOf(side);
        return i < 0 ? 0 : failures[i].get();
    }

    /** Undecodable entries the write-through met on a side (and, unless the policy is fail, replaced). */
    public long undecodable(String side) {
        int i = names.indexOf(side);
        return i < 0 ? 0 : undecodable[i].get();
    }

    int sides() {
        return names.size();
    }

    String name(int side) {
        return names.get(side);
    }

    boolean isDirect(int side) {
        return isDirect[side];
    }

    /** Counts a batch that side missed. */
    void failed(int side) {
        failures[side].incrementAndGet();
    }

    boolean closed() {
        return closed;
    }

    /**
     * The undecodable values a side's compare-and-sets met, by sync.on-bad-data: under fail each is
     * left for the operator and returned by key, for its claim's outcome (exit 65, naming it); under
     * warn (logged) and skip each is replaced by the committed row (see
     * {@link CacheProtocol#replaceUndecodable}). Counted either way; never throws.
     */
    Map<String, RpctlException> undecodable(int index, CacheSide side, List<CacheProtocol.Write> writes, List<CasOutcome> outcomes) {
        Map<String, RpctlException> met = Map.of();
        for (int i = 0; i < outcomes.size(); i++) {
            if (outcomes.get(i) != CasOutcome.UNDECODABLE) {
                continue;
            }
            undecodable[index].incrementAndGet();
            CacheProtocol.Write w = writes.get(i);
            try {
                if (onBadData == BadDataPolicy.FAIL) {
                    if (met.isEmpty()) {
                        met = new HashMap<>();
                    }
                    met.put(w.key(), UndecodableEntryException.at(side.name(), w.key(), side.get(w.key())));
                    continue;
                }
                CasOutcome o = protocol.replaceUndecodable(side, w.key(), w.entry());
                if (onBadData == BadDataPolicy.WARN) {
                    log.warn("side {}: {} held an undecodable value; {} (sync.on-bad-data=warn)", side.name(), w.key(),
                            o == CasOutcome.UNDECODABLE ? "it still does, left for 'rpctl inspect --repair'" : "replaced by the claim's row");
                }
            } catch (RuntimeException e) {
                log.warn("side {}: {} holds an undecodable value, and replacing it failed ({}); the binlog pipeline meets it next",
                        side.name(), w.key(), RpctlException.rootMessage(e));
            }
        }
        return met;
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
            for (WriteBatch b; (b = inFlight.peek()) != null; ) {
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
        for (DirectWriter d : direct) {
            d.close();
        }
        for (QueuedWriter w : writers) {
            try {
                w.thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (QueuedWriter w : writers) {
            w.thread.interrupt();
        }
        // a writer stuck on a hung side, or a batch offered as the writers stopped: answer them now
        for (WriteBatch b; (b = inFlight.poll()) != null; ) {
            b.expire("not written: shutting down", false);
        }
        watchdog.interrupt();
    }
}
