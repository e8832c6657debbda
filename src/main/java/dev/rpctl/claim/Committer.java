package dev.rpctl.claim;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.claim.ClaimService.Outcome;
import dev.rpctl.claim.ClaimService.Result;
import dev.rpctl.claim.ClaimTransaction.Carry;
import dev.rpctl.claim.ClaimTransaction.Decided;
import dev.rpctl.db.SchemaService;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.VersionOutOfRangeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The queue of claims and the few threads that commit them: each takes whatever claims are queued
 * (no timer), up to claim.max-group of one activity, commits them as one {@link ClaimTransaction},
 * writes the rows to every cache side through the write-through (both single-Redis sides at once)
 * and answers the claims. Under load one commit and one round trip serve many claims; an idle
 * claim is committed alone at once.
 */
final class Committer {
    private static final Logger log = LoggerFactory.getLogger(ClaimService.class);

    private final ClaimTransaction transaction;
    private final CacheProtocol protocol;
    private final WriteThrough writeThrough;
    private final SchemaService schema;
    private final ClaimStatsLog stats;
    private final int committers;
    /** Claims a group takes at most (claim.max-group). */
    private final int maxGroup;
    private final BlockingQueue<ClaimRequest> queue = new LinkedBlockingQueue<>(16_384);
    private final List<Thread> threads = new ArrayList<>();
    /** Committers waiting for a claim: while one waits, the others leave it the queue. */
    private final AtomicInteger idle = new AtomicInteger();
    /** Set once the committers run: every claim checks it without taking the lock. */
    private volatile boolean started;
    private volatile boolean closed;

    Committer(ClaimTransaction transaction, CacheProtocol protocol, WriteThrough writeThrough, SchemaService schema,
              ClaimStatsLog stats, int committers, int maxGroup) {
        this.maxGroup = maxGroup;
        this.transaction = transaction;
        this.stats = stats;
        this.protocol = protocol;
        this.writeThrough = writeThrough;
        this.schema = schema;
        this.committers = committers;
    }

    /** Queues the claim and waits for its answer. */
    Outcome claim(ClaimRequest r) {
        if (!started) {
            start();
        }
        try {
            if (closed) {
                throw RpctlException.temporary("shutting down; the claim was not made");
            }
            queue.put(r);
            if (closed && queue.remove(r)) {
                // close() may have drained the queue already: nobody else would answer this one
                throw RpctlException.temporary("shutting down; the claim was not made");
            }
            return r.result().join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw RpctlException.temporary("interrupted while claiming; the claim may or may not be made, retry with the same request id");
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw e;
        }
    }

    private synchronized void start() {
        if (!threads.isEmpty() || closed) {
            return;
        }
        // a claim of a key deleted before counts on the triggers for its version
        schema.requireTriggers();
        for (int i = 0; i < committers; i++) {
            Thread t = new Thread(this::commitLoop, "claim-committer-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        started = true;
    }

    private void commitLoop() {
        Pending pending = new Pending();
        Carry carry = null;
        try {
            // once closed, the requests already taken are still decided; the queue is left to close()
            while (carry != null || !pending.isEmpty() || !closed) {
                List<ClaimRequest> group;
                if (carry != null) {
                    group = carry.requests();
                } else {
                    if (pending.isEmpty()) {
                        idle.incrementAndGet();
                        ClaimRequest first;
                        try {
                            first = queue.poll(200, TimeUnit.MILLISECONDS);
                        } finally {
                            idle.decrementAndGet();
                        }
                        if (first == null) {
                            continue;
                        }
                        pending.add(first);
                        queue.drainTo(pending, maxGroup - 1);
                    }
                    group = takeGroup(pending, pending.peekFirst().activity().id());
                }
                Carry opened = carry;
                // from here the group's connection is commitGroup's to close, whatever happens
                carry = null;
                carry = commitGroup(group, opened, pending);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            RpctlException stopped = RpctlException.temporary("shutting down; the claim was not made");
            if (carry != null) {
                transaction.rollback(carry.connection(), stopped);
                ClaimTransaction.closeQuietly(carry.connection());
                carry.requests().forEach(r -> r.result().completeExceptionally(stopped));
            }
            pending.forEach(r -> r.result().completeExceptionally(stopped));
        }
    }

    /**
     * The claims one committer has taken from the queue and not yet grouped. A commit batch takes
     * its activity's next group from here, and from the queue while no committer waits for it.
     */
    private final class Pending extends ArrayDeque<ClaimRequest> implements ClaimTransaction.Following {
        @Override
        public List<ClaimRequest> take(long activity) {
            // a committer that waits for claims takes the queue itself, in parallel with this batch
            if (closed || idle.get() != 0) {
                return null;
            }
            queue.drainTo(this, Math.max(0, maxGroup - size()));
            // only while this activity's requests are the oldest waiting: others go first
            return !isEmpty() && peekFirst().activity().id() == activity ? takeGroup(this, activity) : null;
        }

        @Override
        public void giveBack(List<ClaimRequest> group) {
            for (int i = group.size() - 1; i >= 0; i--) {
                addFirst(group.get(i));
            }
        }
    }

    /** Takes up to maxGroup requests of one activity out of pending, in their order. */
    private List<ClaimRequest> takeGroup(ArrayDeque<ClaimRequest> pending, long activity) {
        List<ClaimRequest> group = new ArrayList<>(Math.min(maxGroup, pending.size()));
        for (Iterator<ClaimRequest> it = pending.iterator(); it.hasNext() && group.size() < maxGroup; ) {
            ClaimRequest r = it.next();
            if (r.activity().id() == activity) {
                group.add(r);
                it.remove();
            }
        }
        return group;
    }

    /**
     * Commits the claims of one activity, then writes the entries through to the sides and answers
     * the claims. Every request's future is completed, whatever happens. Returns the next group
     * when this group's commit batch also opened that one's transaction.
     */
    private Carry commitGroup(List<ClaimRequest> requests, Carry carry, Pending pending) {
        Decided d;
        try {
            d = transaction.decide(requests, carry, pending);
        } catch (RuntimeException e) {
            for (ClaimRequest r : requests) {
                r.result().completeExceptionally(e);
            }
            return null;
        }
        Map<Long, Outcome> outcomes = d.outcomes();
        if (!d.unserved().isEmpty()) {
            // users the transaction could not pay without waiting for a shard others held: they go
            // next as a group of their own, whose transaction holds no shard and so may wait for one;
            // the others are answered now
            Set<Long> left = new HashSet<>();
            d.unserved().forEach(r -> left.add(r.userId()));
            List<ClaimRequest> again = new ArrayList<>();
            List<ClaimRequest> decided = new ArrayList<>();
            for (ClaimRequest r : requests) {
                (left.contains(r.userId()) ? again : decided).add(r);
            }
            pending.giveBack(again);
            requests = decided;
        }
        List<ClaimRequest> answered = requests;
        long shardWait = d.shardWaitMicros();
        try {
            List<CacheProtocol.Write> writes = new ArrayList<>();
            for (Outcome o : outcomes.values()) {
                if (o.result() == Result.CLAIMED) {
                    try {
                        // the write adds the claimer to the activity's Bloom filter before the claim is answered
                        writes.add(new CacheProtocol.Write(protocol.key(o.row().activityId(), o.row().userId()),
                                Entry.row(o.row()), o.row().activityId(), o.row().userId()));
                    } catch (VersionOutOfRangeException e) {
                        // committed at a version no entry can carry (a key deleted at the top of the range): not cached
                        log.warn("claim of activity {} user {}: {}", o.row().activityId(), o.row().userId(), e.getMessage());
                    }
                }
            }
            if (writes.isEmpty()) {
                // nothing to write through (duplicates, sold out): answer at once
                answer(answered, outcomes, WriteThrough.Written.NONE, shardWait);
            } else {
                // answered when every side has the rows or their time is up: single-Redis sides are
                // written on this thread, Cluster and Sentinel sides by their writers
                writeThrough.submit(writes).thenAccept(written -> answer(answered, outcomes, written, shardWait));
            }
        } catch (RuntimeException e) {
            for (ClaimRequest r : requests) {
                r.result().completeExceptionally(e);
            }
        }
        return d.next();
    }

    /** Answers each request of a group with what the write-through did: the sides it missed, bad data it met. */
    private void answer(List<ClaimRequest> requests, Map<Long, Outcome> outcomes, WriteThrough.Written written,
                        long shardWaitMicros) {
        if (requests.isEmpty()) {
            return;
        }
        Map<Long, Boolean> answered = new HashMap<>();
        long now = System.nanoTime();
        long claimNanos = 0;
        for (ClaimRequest r : requests) {
            Outcome o = outcomes.get(r.userId());
            if (o.result() == Result.CLAIMED) {
                // a second request of the same user in this group is that claim's duplicate
                o = answered.putIfAbsent(r.userId(), true) == null
                        ? new Outcome(Result.CLAIMED, o.row(), o.reason(), written.failedSides(),
                                written.badData().get(protocol.key(o.row().activityId(), o.row().userId())))
                        : new Outcome(Result.DUPLICATE, o.row(), "already claimed", List.of());
            }
            claimNanos += now - r.queuedNanos();
            r.result().complete(o);
        }
        stats.group(requests.get(0).activity().id(), requests.size(), claimNanos, shardWaitMicros);
    }

    /**
     * Stops taking groups; a committer inside a transaction finishes it. Groups already committed
     * are written through and answered by the write-through, which closes after this.
     */
    void close() {
        closed = true;
        List<Thread> committing;
        synchronized (this) {
            committing = List.copyOf(threads);
        }
        try {
            for (Thread t : committing) {
                t.join(5_000);
                if (t.isAlive()) {
                    log.warn("claims: {} still committing at shutdown", t.getName());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (ClaimRequest r; (r = queue.poll()) != null; ) {
            r.result().completeExceptionally(RpctlException.temporary("shutting down; the claim was not made"));
        }
    }
}
