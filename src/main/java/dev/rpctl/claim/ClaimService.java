package dev.rpctl.claim;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.config.MappingSettings;
import dev.rpctl.db.Database;
import dev.rpctl.db.SchemaService;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Claims. Exactly once per (activity, user): a duplicate or a retry returns the original claim and
 * writes nothing. The budget is taken in the same transaction as the insert, from the activity's
 * budget shards, so it can never be overspent.
 * <p>Claims are committed in groups by the {@link Committer}: a few threads each take whatever
 * claims are queued and commit them as one {@link ClaimTransaction} (one multi-row insert, one
 * update per budget shard, one commit, its text from {@link ClaimSql}); the committer then writes
 * the rows to every cache side through the {@link WriteThrough} and answers the claims.
 */
public final class ClaimService implements AutoCloseable {
    private static final long ACTIVITY_CACHE_NANOS = 1_000_000_000L;
    /** Activities whose budget settings are kept at once, at most: any number are claimed over weeks. */
    static final int ACTIVITY_CACHE_MAX = 1024;

    /** CLOSED: the activity is paused, closed or ended; NOT_STARTED: it opens later (the reason says when). */
    public enum Result { CLAIMED, DUPLICATE, SOLD_OUT, CLOSED, NOT_STARTED }

    /**
     * The outcome; row is set for CLAIMED and DUPLICATE; failedSides lists sides the write-through
     * missed; badData is set when the write-through met an undecodable entry of the claim's key under
     * sync.on-bad-data=fail (the claim is committed all the same; the entry is left for the operator).
     */
    public record Outcome(Result result, ClaimRow row, String reason, List<String> failedSides, RpctlException badData) {
        public Outcome(Result result, ClaimRow row, String reason, List<String> failedSides) {
            this(result, row, reason, failedSides, null);
        }
    }

    private final ActivityService activities;
    private final Clock clock;
    private final ClaimTransaction transaction;
    private final Committer committer;
    private final ClaimStatsLog stats;
    private final Expiring<Long, Activity> activityCache = new Expiring<>(ACTIVITY_CACHE_MAX);

    public ClaimService(Database db, MappingSettings mapping, ActivityService activities,
                        CacheProtocol protocol, WriteThrough writeThrough, Clock clock, int committers, int maxGroup) {
        this.activities = activities;
        this.clock = clock;
        this.stats = new ClaimStatsLog(db);
        this.transaction = new ClaimTransaction(db, new ClaimSql(mapping), stats::times);
        this.committer = new Committer(transaction, protocol, writeThrough, new SchemaService(db, mapping), stats, committers,
                maxGroup);
    }

    public static void checkRequestId(String requestId) {
        if (requestId != null && !ClaimSql.isRequestId(requestId)) {
            throw RpctlException.usage("--request-id must be 1-64 characters of A-Z a-z 0-9 . _ : -, got \"" + requestId + "\"");
        }
    }

    public Outcome claim(long activityId, long userId, String requestId) {
        checkRequestId(requestId);
        Activity a = activity(activityId);
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        String closedReason = a.closedReason(now);
        if (closedReason != null) {
            boolean early = a.startsAt() != null && now.isBefore(a.startsAt()) && "open".equals(a.status());
            return new Outcome(early ? Result.NOT_STARTED : Result.CLOSED, null, closedReason, List.of());
        }
        return committer.claim(new ClaimRequest(a, userId, requestId == null ? "" : requestId, now, new CompletableFuture<>()));
    }

    /**
     * The groups decided so far: how many, the claims in them, the time their transactions took in
     * all, and the part of it they waited for budget-shard locks (as the claim statistics count it:
     * over the timed groups, whose transactions took timedNanos).
     */
    public record GroupStats(long groups, long claims, long transactionNanos, long shardWaitMicros, long timedNanos) {
        public double claimsPerGroup() {
            return groups == 0 ? 0 : claims / (double) groups;
        }

        /** The share of the groups' transaction time spent waiting for shard locks, 0-1. */
        public double shardWaitShare() {
            return timedNanos <= 0 ? 0 : Math.min(1, shardWaitMicros * 1000.0 / timedNanos);
        }

        public GroupStats minus(GroupStats before) {
            return new GroupStats(groups - before.groups, claims - before.claims, transactionNanos - before.transactionNanos,
                    shardWaitMicros - before.shardWaitMicros, timedNanos - before.timedNanos);
        }
    }

    public GroupStats groupStats() {
        return transaction.stats();
    }

    /** Groups committed in one round trip so far. */
    public long oneRoundTripGroups() {
        return transaction.oneRoundTripGroups();
    }

    private Activity activity(long id) {
        long nowNanos = System.nanoTime();
        Activity a = activityCache.get(id, nowNanos);
        if (a == null) {
            a = activities.require(id);
            activityCache.put(id, a, nowNanos + ACTIVITY_CACHE_NANOS, nowNanos);
        }
        return a;
    }

    /** Stops the committers; claims still queued are refused as temporary failures. */
    @Override
    public void close() {
        committer.close();
        // what the answered groups counted goes to the statistics table before the pool closes
        stats.close();
    }
}
