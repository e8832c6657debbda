package dev.rpctl.claim;

import dev.rpctl.claim.ClaimService.Outcome;
import dev.rpctl.claim.ClaimService.Result;
import dev.rpctl.claim.ClaimTransaction.Decided;
import dev.rpctl.protocol.ClaimRow;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import static dev.rpctl.claim.ClaimSql.readTombstones;
import static dev.rpctl.claim.ClaimSql.statement;

/**
 * The claim transaction's fast path: a group of a fixed-allocation activity whose users are
 * expected to be new, committed in one round trip, and paused for an activity whose shards ran
 * short, whose groups then take the general path of {@link ClaimTransaction}.
 */
final class OneRoundTrip {
    private static final Logger log = LoggerFactory.getLogger(OneRoundTrip.class);
    /** "Subquery returns more than 1 row": how a one-round-trip group's budget guard stops its batch. */
    private static final int ER_SUBQUERY_NO_1_ROW = 1242;
    /** After a one-round-trip group found its shard short of budget, the activity's groups take the general path this long. */
    private static final long FAST_PAUSE_NANOS = 1_000_000_000L;

    private final ClaimSql sql;
    /** Activities paused at once, at most; a forgotten pause costs one more try of the fast path. */
    static final int PAUSED_MAX = 1024;

    /** Activities whose one-round-trip groups are paused (a shard was short of budget). */
    private final Expiring<Long, Boolean> fastPaused = new Expiring<>(PAUSED_MAX);
    private final AtomicLong groups = new AtomicLong();

    OneRoundTrip(ClaimSql sql) {
        this.sql = sql;
    }

    /** Groups committed in one round trip so far. */
    long groups() {
        return groups.get();
    }

    /** Whether the activity's groups take the general path for now (its shards ran short lately). */
    boolean paused(long activity) {
        return fastPaused.get(activity, System.nanoTime()) != null;
    }

    private void pause(long activity) {
        long now = System.nanoTime();
        fastPaused.put(activity, Boolean.TRUE, now + FAST_PAUSE_NANOS, now);
    }

    /**
     * A group of a fixed-allocation activity in one round trip, for when its users are expected to
     * be new: in one transaction the budget of the whole group taken from one random shard, the
     * claims inserted, the versions the insert gave them read back, and the commit. It commits only
     * if all of them can be paid from that shard and none of the users has claimed:
     * <ul>
     * <li>the shard's UPDATE fails with "subquery returns more than 1 row" when the shard holds
     *     less than the group's count or amount (the guard's second row appears only then), and
     *     the server runs nothing after a failed statement, the COMMIT included;</li>
     * <li>the INSERT is a plain INSERT (a claimed user fails it on the duplicate key), and takes its
     *     activity id from the shard's row, so with no such row it inserts nothing.</li>
     * </ul>
     * Returns null when it committed nothing (a user had claimed, the shard was short or missing, a
     * deadlock): the caller then takes the general path, which reads before it writes. A batch that
     * committed something other than the whole group (which the statements above should rule out)
     * returns null too, with its rows in tried: the general path's read then answers from what
     * the primary holds, those rows as claimed.
     */
    Decided commit(Connection c, Activity a, Map<Long, ClaimRequest> byUser, Map<Long, ClaimRow> tried,
                   ClaimTransaction.ShardWait wait) throws SQLException {
        int n = byUser.size();
        long amount = a.fixedAmount();
        int shard = ThreadLocalRandom.current().nextInt(a.shards());
        List<ClaimRow> rows = new ArrayList<>(n);
        for (ClaimRequest r : byUser.values()) {
            rows.add(new ClaimRow(a.id(), r.userId(), amount, "paid", r.requestId(), 1, r.now().toEpochMilli()));
        }
        String batch = sql.oneRoundTripSql(a, byUser.keySet(), rows, shard, wait.timed);
        int updated;
        int inserted;
        Map<Long, Long> tombstones = new HashMap<>();
        try (Statement st = statement(c)) {
            // START TRANSACTION, (timed: the wait's start, the shard probe,) the UPDATE, (the wait's end,) the INSERT
            st.execute(batch);
            st.getMoreResults();
            if (wait.timed) {
                st.getMoreResults();
                st.getMoreResults();
            }
            updated = st.getUpdateCount();
            if (wait.timed) {
                st.getMoreResults();
            }
            st.getMoreResults();
            inserted = st.getUpdateCount();
            if (!st.getMoreResults()) {
                // the server ran the batch, its COMMIT maybe included, and did not say what it read
                log.warn("claims of activity {}: the one-round-trip batch sent no tombstone read; answering them from the primary",
                        a.id());
                rows.forEach(r -> tried.put(r.userId(), r));
                return null;
            }
            readTombstones(st.getResultSet(), tombstones);
            st.getMoreResults();
            if (wait.timed && st.getMoreResults()) {
                wait.micros += ClaimSql.readShardWait(st.getResultSet());
            }
        } catch (SQLException e) {
            if (e.getErrorCode() != ClaimTransaction.ER_DUP_ENTRY && e.getErrorCode() != ER_SUBQUERY_NO_1_ROW && !ClaimTransaction.isDeadlock(e)) {
                throw e;
            }
            // nothing after the failed statement ran: end the transaction, then read before writing;
            // the same round trip reads how long the UPDATE waited for its shard before it failed
            try (Statement st = statement(c)) {
                st.execute(wait.timed ? "ROLLBACK;" + ClaimSql.SHARD_WAIT_READ : "ROLLBACK");
                if (wait.timed && st.getMoreResults()) {
                    wait.micros += ClaimSql.readShardWait(st.getResultSet());
                }
            }
            if (e.getErrorCode() == ER_SUBQUERY_NO_1_ROW) {
                pause(a.id());
            }
            return null;
        }
        if (updated == 0 && inserted == 0) {
            // no such shard: the transaction changed nothing
            pause(a.id());
            return null;
        }
        if (updated != 1 || inserted != n) {
            log.warn("claims of activity {}: the one-round-trip batch updated {} shard row(s) and inserted {} of {} claims;"
                    + " answering them from the primary", a.id(), updated, inserted, n);
            for (ClaimRow row : rows) {
                tried.put(row.userId(), row);
            }
            return null;
        }
        groups.incrementAndGet();
        Map<Long, Outcome> out = new LinkedHashMap<>();
        for (ClaimRow row : rows) {
            // inserted at version 1; the trigger started a key deleted before at its tombstone version
            Long t = tombstones.get(row.userId());
            long v = t == null ? 1 : Math.max(1, t);
            ClaimRow paid = v == row.version() ? row : new ClaimRow(row.activityId(), row.userId(), row.amount(),
                    row.status(), row.requestId(), v, row.updatedAtMillis());
            out.put(row.userId(), new Outcome(Result.CLAIMED, paid, "claimed", List.of()));
        }
        return new Decided(out, null);
    }
}
