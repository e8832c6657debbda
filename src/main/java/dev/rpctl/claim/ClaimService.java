package dev.rpctl.claim;

import dev.rpctl.RpctlException;
import dev.rpctl.config.MappingSettings;
import dev.rpctl.db.Database;
import dev.rpctl.db.SchemaService;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The claim transaction. Exactly once per (activity, user): a duplicate or a retry returns the
 * original claim and writes nothing. The budget is decremented in the same transaction, on one of
 * the activity's budget shards, so it can never be overspent; the shard row is locked only from
 * its UPDATE to the commit.
 */
public final class ClaimService {
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{0,64}");
    private static final long ACTIVITY_CACHE_NANOS = 1_000_000_000L;
    private static final int DEADLOCK_RETRIES = 20;
    static final DateTimeFormatter SQL_MILLIS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

    public enum Result { CLAIMED, DUPLICATE, SOLD_OUT, CLOSED }

    /** The outcome; row is set for CLAIMED and DUPLICATE; failedSides lists sides the write-through missed. */
    public record Outcome(Result result, ClaimRow row, String reason, List<String> failedSides) {}

    private final Database db;
    private final ActivityService activities;
    private final ClaimRepository claims;
    private final CacheProtocol protocol;
    private final WriteThrough writeThrough;
    private final Clock clock;
    private final String insertSql;
    private final String decrementSql;
    private final String lockShardSql;
    private final String freeShardSql;
    private final Map<Long, CachedActivity> activityCache = new ConcurrentHashMap<>();

    private record CachedActivity(Activity activity, long loadedNanos) {}

    public ClaimService(Database db, MappingSettings mapping, ActivityService activities, ClaimRepository claims,
                        CacheProtocol protocol, WriteThrough writeThrough, Clock clock) {
        this.db = db;
        this.activities = activities;
        this.claims = claims;
        this.protocol = protocol;
        this.writeThrough = writeThrough;
        this.clock = clock;
        String v = mapping.versionColumn();
        String budget = SchemaService.budgetTable(mapping);
        this.insertSql = "INSERT IGNORE INTO " + mapping.claimTable()
                + " (activity_id, user_id, amount, status, request_id, " + v + ", created_at, updated_at)"
                + " VALUES (?, ?, ?, 'paid', ?, 1, ?, ?)";
        this.decrementSql = "UPDATE " + budget + " SET remaining_count = remaining_count - 1,"
                + " remaining_amount = remaining_amount - ?, " + v + " = " + v + " + 1"
                + " WHERE activity_id = ? AND shard = ? AND remaining_count > 0 AND remaining_amount >= ?";
        this.freeShardSql = "SELECT shard FROM " + budget + " WHERE activity_id = ? AND remaining_count > 0"
                + " AND remaining_amount >= ? LIMIT 1 FOR UPDATE SKIP LOCKED";
        this.lockShardSql = "SELECT remaining_count, remaining_amount FROM " + budget
                + " WHERE activity_id = ? AND shard = ? FOR UPDATE";
    }

    public static void checkRequestId(String requestId) {
        if (requestId != null && !REQUEST_ID.matcher(requestId).matches()) {
            throw RpctlException.usage("--request-id must be 1-64 characters of A-Z a-z 0-9 . _ : -, got \"" + requestId + "\"");
        }
    }

    public Outcome claim(long activityId, long userId, String requestId) {
        checkRequestId(requestId);
        String rid = requestId == null ? "" : requestId;
        // the common retry costs one primary-key read and no write
        Optional<ClaimRow> existing = claims.find(activityId, userId);
        if (existing.isPresent()) {
            return new Outcome(Result.DUPLICATE, existing.get(), "already claimed", List.of());
        }
        Activity a = activity(activityId);
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        String closed = a.closedReason(now);
        if (closed != null) {
            return new Outcome(Result.CLOSED, null, closed, List.of());
        }
        int shard = 0;
        for (int attempt = 0; ; attempt++) {
            try {
                Outcome o = transaction(a, userId, rid, now, shard);
                if (o == null) {
                    // that shard is empty; a random claim looks at the next one in a new transaction
                    if (++shard >= a.shards()) {
                        return soldOut(a);
                    }
                    continue;
                }
                if (o.result() == Result.CLAIMED) {
                    List<String> failed = writeThrough.write(protocol.key(activityId, userId), Entry.row(o.row()));
                    return new Outcome(o.result(), o.row(), o.reason(), failed);
                }
                return o;
            } catch (SQLException e) {
                if (isDeadlock(e) && attempt < DEADLOCK_RETRIES) {
                    // InnoDB chose this transaction as the victim and rolled it back: nothing was paid, try again
                    backoff(attempt);
                    continue;
                }
                throw db.translate(e);
            }
        }
    }

    /** One transaction; null when a random claim found its shard empty. */
    private Outcome transaction(Activity a, long userId, String rid, Instant now, int shardAttempt) throws SQLException {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                Outcome o = a.allocation() == Allocation.FIXED ? fixed(c, a, userId, rid, now)
                        : random(c, a, userId, rid, now, shardOf(userId, a.shards(), shardAttempt));
                if (o == null) {
                    c.rollback();
                    return null;
                }
                if (o.result() == Result.CLAIMED) {
                    c.commit();
                } else {
                    c.rollback();
                    if (o.result() == Result.DUPLICATE) {
                        // lost a race with the same user's other request: return the winner's claim
                        ClaimRow row = claims.find(c, a.id(), userId).orElseThrow();
                        c.commit();
                        return new Outcome(Result.DUPLICATE, row, o.reason(), List.of());
                    }
                }
                return o;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /**
     * Fixed amount: insert the claim first, then take the budget from a shard no other claim holds
     * right now (SKIP LOCKED), so claims do not queue behind each other's commits; the shard lock
     * is held from its UPDATE to the commit only.
     */
    private Outcome fixed(Connection c, Activity a, long userId, String rid, Instant now) throws SQLException {
        long amount = a.fixedAmount();
        if (insert(c, a.id(), userId, amount, rid, now) == 0) {
            return new Outcome(Result.DUPLICATE, null, "already claimed", List.of());
        }
        int free = -1;
        try (PreparedStatement ps = c.prepareStatement(freeShardSql)) {
            ps.setLong(1, a.id());
            ps.setLong(2, amount);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    free = rs.getInt(1);
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(decrementSql)) {
            ps.setLong(1, amount);
            ps.setLong(2, a.id());
            ps.setLong(4, amount);
            if (free >= 0) {
                ps.setInt(3, free);
                if (ps.executeUpdate() == 1) {
                    return claimed(a.id(), userId, amount, rid, now);
                }
            }
            // every shard with budget is locked by another claim: wait for them in turn
            for (int i = 0; i < a.shards(); i++) {
                ps.setInt(3, shardOf(userId, a.shards(), i));
                if (ps.executeUpdate() == 1) {
                    return claimed(a.id(), userId, amount, rid, now);
                }
            }
        }
        return soldOut(a);
    }

    private static Outcome soldOut(Activity a) {
        return new Outcome(Result.SOLD_OUT, null, "activity " + a.id() + " is sold out", List.of());
    }

    /**
     * Random amount: the amount depends on what is left, so the shard is read under its lock
     * first. A transaction locks one shard only, so two claims never wait on each other's shards.
     */
    private Outcome random(Connection c, Activity a, long userId, String rid, Instant now, int shard) throws SQLException {
        long count;
        long left;
        try (PreparedStatement ps = c.prepareStatement(lockShardSql)) {
            ps.setLong(1, a.id());
            ps.setInt(2, shard);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                count = rs.getLong(1);
                left = rs.getLong(2);
            }
        }
        if (count <= 0) {
            return null;
        }
        long amount = Allocation.RANDOM.next(count, left, 0);
        try (PreparedStatement ps = c.prepareStatement(decrementSql)) {
            ps.setLong(1, amount);
            ps.setLong(2, a.id());
            ps.setInt(3, shard);
            ps.setLong(4, amount);
            if (ps.executeUpdate() != 1) {
                throw new IllegalStateException("budget shard " + shard + " of activity " + a.id() + " changed under its lock");
            }
        }
        if (insert(c, a.id(), userId, amount, rid, now) == 0) {
            return new Outcome(Result.DUPLICATE, null, "already claimed", List.of());
        }
        return claimed(a.id(), userId, amount, rid, now);
    }

    private int insert(Connection c, long activityId, long userId, long amount, String rid, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(insertSql)) {
            // as text: Connector/J takes MariaDB's "5.5.5-" version prefix for a server without
            // fractional seconds and would drop the milliseconds of a Timestamp parameter
            String ts = SQL_MILLIS.format(now);
            ps.setLong(1, activityId);
            ps.setLong(2, userId);
            ps.setLong(3, amount);
            ps.setString(4, rid);
            ps.setString(5, ts);
            ps.setString(6, ts);
            return ps.executeUpdate();
        }
    }

    private static Outcome claimed(long activityId, long userId, long amount, String rid, Instant now) {
        ClaimRow row = new ClaimRow(activityId, userId, amount, "paid", rid, 1, now.toEpochMilli());
        return new Outcome(Result.CLAIMED, row, "claimed", List.of());
    }

    /** A user's first shard comes from its id, so one user's retries meet on the same row; then the next ones. */
    static int shardOf(long userId, int shards, int attempt) {
        return (int) Math.floorMod(mix(userId) + attempt, (long) shards);
    }

    private static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        return x;
    }

    private Activity activity(long id) {
        long nowNanos = System.nanoTime();
        CachedActivity ca = activityCache.get(id);
        if (ca == null || nowNanos - ca.loadedNanos() > ACTIVITY_CACHE_NANOS) {
            ca = new CachedActivity(activities.require(id), nowNanos);
            activityCache.put(id, ca);
        }
        return ca.activity();
    }

    private static void backoff(int attempt) {
        try {
            Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(1, 2 + Math.min(attempt, 10) * 2L));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean isDeadlock(SQLException e) {
        return e.getErrorCode() == 1213 || e.getErrorCode() == 1205 || "40001".equals(e.getSQLState());
    }
}
