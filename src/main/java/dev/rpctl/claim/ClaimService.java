package dev.rpctl.claim;

import dev.rpctl.RpctlException;
import dev.rpctl.config.MappingSettings;
import dev.rpctl.db.ClaimProcedure;
import dev.rpctl.db.Database;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Claims. Exactly once per (activity, user): a duplicate or a retry returns the original claim and
 * writes nothing. The budget is taken in the same transaction as the insert, from one of the
 * activity's budget shards, so it can never be overspent. The transaction is the stored procedure
 * of {@link ClaimProcedure} (one round trip); after its commit the row is written through to
 * every cache side.
 */
public final class ClaimService {
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{0,64}");
    private static final long ACTIVITY_CACHE_NANOS = 1_000_000_000L;
    private static final int DEADLOCK_RETRIES = 20;
    private static final DateTimeFormatter SQL_MILLIS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

    public enum Result { CLAIMED, DUPLICATE, SOLD_OUT, CLOSED }

    /** The outcome; row is set for CLAIMED and DUPLICATE; failedSides lists sides the write-through missed. */
    public record Outcome(Result result, ClaimRow row, String reason, List<String> failedSides) {}

    private final Database db;
    private final ActivityService activities;
    private final CacheProtocol protocol;
    private final WriteThrough writeThrough;
    private final Clock clock;
    private final String callSql;
    private final Map<Long, CachedActivity> activityCache = new ConcurrentHashMap<>();

    private record CachedActivity(Activity activity, long loadedNanos) {}

    public ClaimService(Database db, MappingSettings mapping, ActivityService activities,
                        CacheProtocol protocol, WriteThrough writeThrough, Clock clock) {
        this.db = db;
        this.activities = activities;
        this.protocol = protocol;
        this.writeThrough = writeThrough;
        this.clock = clock;
        this.callSql = "CALL " + ClaimProcedure.name(mapping) + "(?, ?, ?, ?, ?, ?)";
    }

    public static void checkRequestId(String requestId) {
        if (requestId != null && !REQUEST_ID.matcher(requestId).matches()) {
            throw RpctlException.usage("--request-id must be 1-64 characters of A-Z a-z 0-9 . _ : -, got \"" + requestId + "\"");
        }
    }

    public Outcome claim(long activityId, long userId, String requestId) {
        checkRequestId(requestId);
        Activity a = activity(activityId);
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        String closed = a.closedReason(now);
        if (closed != null) {
            return new Outcome(Result.CLOSED, null, closed, List.of());
        }
        long fixed = a.allocation() == Allocation.FIXED ? a.fixedAmount() : 0;
        for (int attempt = 0; ; attempt++) {
            try {
                Outcome o = call(activityId, userId, fixed, requestId == null ? "" : requestId, now,
                        ThreadLocalRandom.current().nextInt(a.shards()));
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

    private Outcome call(long activityId, long userId, long fixed, String rid, Instant now, int shard) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(callSql)) {
            ps.setLong(1, activityId);
            ps.setLong(2, userId);
            ps.setLong(3, fixed);
            ps.setString(4, rid);
            // as text: Connector/J takes MariaDB's "5.5.5-" version prefix for a server without
            // fractional seconds and would drop the milliseconds of a Timestamp parameter
            ps.setString(5, SQL_MILLIS.format(now));
            ps.setInt(6, shard);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException("the claim procedure returned no row");
                }
                String outcome = rs.getString(1);
                if (outcome.equals("sold-out")) {
                    return new Outcome(Result.SOLD_OUT, null, "activity " + activityId + " is sold out", List.of());
                }
                ClaimRow row = new ClaimRow(activityId, userId, rs.getLong(2), rs.getString(6), rs.getString(3),
                        rs.getLong(4), rs.getLong(5));
                return outcome.equals("claimed")
                        ? new Outcome(Result.CLAIMED, row, "claimed", List.of())
                        : new Outcome(Result.DUPLICATE, row, "already claimed", List.of());
            }
        }
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
            Thread.sleep(ThreadLocalRandom.current().nextLong(1, 2 + Math.min(attempt, 10) * 2L));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean isDeadlock(SQLException e) {
        return e.getErrorCode() == 1213 || e.getErrorCode() == 1205 || "40001".equals(e.getSQLState());
    }
}
