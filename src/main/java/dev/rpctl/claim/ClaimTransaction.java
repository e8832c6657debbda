package dev.rpctl.claim;

import dev.rpctl.claim.ClaimService.Outcome;
import dev.rpctl.claim.ClaimService.Result;
import dev.rpctl.claim.ClaimSql.Existing;
import dev.rpctl.claim.ClaimSql.Opening;
import dev.rpctl.claim.ClaimSql.Shard;
import dev.rpctl.db.Database;
import dev.rpctl.protocol.ClaimRow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

import static dev.rpctl.claim.ClaimSql.execute;
import static dev.rpctl.claim.ClaimSql.readExisting;
import static dev.rpctl.claim.ClaimSql.readOpening;
import static dev.rpctl.claim.ClaimSql.readShard;
import static dev.rpctl.claim.ClaimSql.readTombstones;
import static dev.rpctl.claim.ClaimSql.nextResultSet;
import static dev.rpctl.claim.ClaimSql.statement;

/**
 * The transaction of one group of claims of one activity: the duplicate read, the budget taken
 * from the activity's shards, the insert and the commit, retried whole when InnoDB picks it as a
 * deadlock victim or a same-user race. A group of a fixed-allocation activity whose users are
 * expected to be new goes in {@link OneRoundTrip}; every other group, and every retry, takes the
 * general path here, which reads before it writes.
 */
final class ClaimTransaction {
    private static final Logger log = LoggerFactory.getLogger(ClaimTransaction.class);
    private static final int RETRIES = 20;
    static final int ER_DUP_ENTRY = 1062;

    /**
     * Where a commit batch finds its activity's next group, whose transaction it then opens after
     * its commit, and where it gives that group back when the batch fails.
     */
    interface Following {
        /** The next group of the activity when one is waiting and nobody else would take it; else null. */
        List<ClaimRequest> take(long activity);

        void giveBack(List<ClaimRequest> group);
    }

    /**
     * A group whose transaction the previous group's commit batch opened: its first read and
     * shard pick ran right after that commit, on the same connection, which the committer keeps
     * for it. Under load a group then costs one round trip.
     */
    record Carry(List<ClaimRequest> requests, Connection connection, Opening opening) {}

    /**
     * The answers of a group, and the next group when this one's batch opened its transaction.
     * unserved are users the transaction could not pay from the shards it could lock without
     * waiting (other transactions held the rest): they are neither paid nor sold out yet.
     * shardWaitMicros: what the group waited for shard locks, -1 when it was not timed.
     */
    record Decided(Map<Long, Outcome> outcomes, Carry next, List<ClaimRequest> unserved, long shardWaitMicros) {
        Decided(Map<Long, Outcome> outcomes, Carry next) {
            this(outcomes, next, List.of());
        }

        Decided(Map<Long, Outcome> outcomes, Carry next, List<ClaimRequest> unserved) {
            this(outcomes, next, unserved, 0);
        }

        Decided waited(long micros) {
            return new Decided(outcomes, next, unserved, micros);
        }
    }

    /**
     * The time one group's transactions (its retries included) waited for budget-shard locks, when
     * the group is timed: the statements that may wait for a held shard add what they took.
     */
    static final class ShardWait {
        final boolean timed;
        long micros;

        ShardWait(boolean timed) {
            this.timed = timed;
        }
    }

    /** Which groups are timed: timing a one-round-trip group adds statements to its batch, so a sample is. */
    interface Timing {
        boolean times(long activity);
    }

    /** A Following that has no group to give: a transaction for users left unserved opens no other. */
    static final Following NONE = new Following() {
        @Override
        public List<ClaimRequest> take(long activity) {
            return null;
        }

        @Override
        public void giveBack(List<ClaimRequest> group) {
            throw new IllegalStateException("no group was taken");
        }
    };

    private final Database db;
    private final ClaimSql sql;
    /** Whether the last group had a new claim: then the next one opens its transaction with its first read. */
    private volatile boolean expectFresh = true;
    private final OneRoundTrip oneRoundTrip;
    private final LongAdder groups = new LongAdder();
    private final LongAdder claims = new LongAdder();
    private final LongAdder decideNanos = new LongAdder();
    private final LongAdder shardWaitMicros = new LongAdder();
    private final LongAdder timedNanos = new LongAdder();
    private final Timing timing;

    /** Every group timed. */
    ClaimTransaction(Database db, ClaimSql sql) {
        this(db, sql, activity -> true);
    }

    ClaimTransaction(Database db, ClaimSql sql, Timing timing) {
        this.db = db;
        this.sql = sql;
        this.timing = timing;
        this.oneRoundTrip = new OneRoundTrip(sql);
    }

    /** Groups committed in one round trip so far. */
    long oneRoundTripGroups() {
        return oneRoundTrip.groups();
    }

    /** What the groups decided so far cost: see {@link ClaimService.GroupStats}. */
    ClaimService.GroupStats stats() {
        return new ClaimService.GroupStats(groups.sum(), claims.sum(), decideNanos.sum(), shardWaitMicros.sum(), timedNanos.sum());
    }

    /**
     * The outcome per user, committed; retried whole when InnoDB picks it as a deadlock victim or a
     * same-user race. A carried group starts on its open transaction. A transaction that holds a
     * shard never waits for another (so that waits cannot form a cycle): when the shards it could
     * lock ran out before its users did, it commits what it could pay and returns the rest as
     * unserved, for a transaction of their own, which holds no shard and so waits for one that
     * others hold. SOLD_OUT is answered only by a transaction that held no shard and found no
     * budget left anywhere.
     */
    Decided decide(List<ClaimRequest> requests, Carry carry, Following following) {
        long t0 = System.nanoTime();
        ShardWait wait = new ShardWait(timing.times(requests.get(0).activity().id()));
        try {
            return decideOnce(requests, carry, following, wait).waited(wait.timed ? wait.micros : -1);
        } finally {
            long nanos = System.nanoTime() - t0;
            groups.increment();
            claims.add(requests.size());
            decideNanos.add(nanos);
            if (wait.timed) {
                shardWaitMicros.add(wait.micros);
                timedNanos.add(nanos);
            }
        }
    }

    /**
     * One transaction of the group, retried whole when InnoDB picks it as a deadlock victim, a
     * same-user race, or a batch whose answers did not say what it committed.
     */
    private Decided decideOnce(List<ClaimRequest> requests, Carry carry, Following following, ShardWait wait) {
        Activity a = requests.get(0).activity();
        LinkedHashMap<Long, ClaimRequest> byUser = new LinkedHashMap<>();
        for (ClaimRequest r : requests) {
            byUser.putIfAbsent(r.userId(), r);
        }
        // rows an attempt sent to be committed: if a later part of its batch failed after the
        // commit, the retry finds them and answers them as claimed, not as duplicates
        Map<Long, ClaimRow> tried = new HashMap<>();
        for (int attempt = 0; ; attempt++) {
            Connection c = null;
            Decided d = null;
            try {
                Opening opening = null;
                if (carry != null) {
                    c = carry.connection();
                    opening = carry.opening();
                    carry = null;
                } else {
                    c = db.connection();
                }
                try {
                    d = attempt(c, a, byUser, opening, following, tried, attempt == 0, wait);
                    return d;
                } catch (Throwable e) {
                    // a failure may leave the transaction open anywhere before its commit: end it
                    // before the connection goes back to the pool, which sees autocommit on
                    rollback(c, e);
                    throw e;
                }
            } catch (SQLException e) {
                if (e.getErrorCode() == ER_DUP_ENTRY) {
                    // another request of one of these users committed first: read again, answer it as a
                    // duplicate. Nothing of this attempt was committed, so none of its rows is ours.
                    tried.clear();
                    if (attempt >= RETRIES) {
                        throw new IllegalStateException("claims of activity " + a.id() + " kept racing with other requests of the same users");
                    }
                    continue;
                }
                if (isDeadlock(e) && attempt < RETRIES) {
                    // InnoDB rolled this transaction back: nothing was paid, try again
                    backoff(attempt);
                    continue;
                }
                if (UNCERTAIN.equals(e.getSQLState()) && attempt < RETRIES) {
                    // the server ran the batch, its COMMIT maybe included: read again, and the rows
                    // this attempt sent are answered as claimed where the primary has them
                    log.warn("claims of activity {}: {}; answering them from the primary", a.id(), e.getMessage());
                    continue;
                }
                throw db.translate(e);
            } finally {
                if (c != null && (d == null || d.next() == null)) {
                    closeQuietly(c);
                }
            }
        }
    }

    private Decided attempt(Connection c, Activity a, Map<Long, ClaimRequest> byUser, Opening carried,
                            Following following, Map<Long, ClaimRow> tried, boolean first, ShardWait wait)
            throws SQLException {
        // a retry (a same-user race, a deadlock) reads first: what failed it is likely still there
        if (first && carried == null && expectFresh && a.allocation() == Allocation.FIXED && !oneRoundTrip.paused(a.id())) {
            Decided d = oneRoundTrip.commit(c, a, byUser, tried, wait);
            if (d != null) {
                expectFresh = true;
                return d;
            }
        }
        // duplicates and retries are answered from one read, with no lock and no write; when the
        // last group had new claims, this read also opens the transaction and picks a shard
        Opening open = carried != null ? carried
                : expectFresh ? open(c, a, byUser.keySet())
                : new Opening(existing(c, a.id(), byUser.keySet()), false, null, 0);
        Existing existing = open.existing();
        Map<Long, Outcome> out = new LinkedHashMap<>();
        for (ClaimRow row : open.existing().rows()) {
            out.put(row.userId(), sameClaim(row, tried.get(row.userId()))
                    ? new Outcome(Result.CLAIMED, row, "claimed", List.of())
                    : new Outcome(Result.DUPLICATE, row, "already claimed", List.of()));
        }
        List<ClaimRequest> fresh = new ArrayList<>();
        for (ClaimRequest r : byUser.values()) {
            if (!out.containsKey(r.userId())) {
                fresh.add(r);
            }
        }
        expectFresh = !fresh.isEmpty();
        if (fresh.isEmpty()) {
            if (open.begun()) {
                execute(c, "ROLLBACK");
            }
            return new Decided(out, null);
        }
        return insert(c, a, fresh, out, open, existing, following, tried, wait);
    }

    /**
     * Takes budget for the fresh users from as many shards as they need, inserts their claims and
     * commits; the budget updates, the insert and the commit go as one multi-statement batch. The
     * insert is a plain INSERT: when another request of one of these users committed first it
     * fails with a duplicate key and the server runs nothing after it, the commit included.
     * When more claims of the activity are waiting, the batch ends with their opening, and they
     * come back as the next group.
     */
    private Decided insert(Connection c, Activity a, List<ClaimRequest> fresh, Map<Long, Outcome> out, Opening open,
                           Existing existing, Following waiting, Map<Long, ClaimRow> tried, ShardWait wait)
            throws SQLException {
        List<ClaimRow> rows = new ArrayList<>(fresh.size());
        List<Shard> taken = new ArrayList<>(1);
        int next = 0;
        while (next < fresh.size()) {
            Shard s;
            if (taken.isEmpty() && open.begun()) {
                s = open.shard() != null ? open.shard() : takeShard(c, a, taken, open.start(), 1, wait);
            } else {
                s = takeShard(c, a, taken, ThreadLocalRandom.current().nextInt(a.shards()), 0, wait);
            }
            if (s == null) {
                break;
            }
            long count = s.count();
            long left = s.amount();
            while (next < fresh.size() && count > 0) {
                ClaimRequest r = fresh.get(next++);
                long amount = a.allocation().next(count, left, a.fixedAmount());
                count--;
                left -= amount;
                rows.add(new ClaimRow(a.id(), r.userId(), amount, "paid", r.requestId(),
                        existing.startVersion(r.userId()), r.now().toEpochMilli()));
            }
            taken.add(new Shard(s.shard(), count, left));
        }
        Carry carry = null;
        if (rows.isEmpty()) {
            // sold out: the transaction took no lock and wrote nothing
            execute(c, "ROLLBACK");
        } else {
            // A fixed-allocation activity's next group is not opened here: it goes in one round
            // trip of its own, and holds no shard lock while this group is written through. Nor is
            // one opened when users are left: their transaction may wait for a shard, which the
            // next group's open transaction, idle on this thread, could be holding
            List<ClaimRequest> following = a.allocation() != Allocation.FIXED && next == fresh.size()
                    ? waiting.take(a.id()) : null;
            for (ClaimRow row : rows) {
                tried.put(row.userId(), row);
            }
            Map<Long, Long> tombstones = new HashMap<>();
            try {
                Opening opened = commit(c, a, taken, rows, following, tombstones);
                if (opened != null) {
                    carry = new Carry(following, c, opened);
                }
            } catch (SQLException | RuntimeException e) {
                // nothing after the failed statement ran: those requests wait for their turn again
                if (following != null) {
                    waiting.giveBack(following);
                }
                throw e;
            }
            // a key deleted after the read started at its tombstone version, which the insert's trigger set
            for (int i = 0; i < rows.size(); i++) {
                ClaimRow r = rows.get(i);
                Long t = tombstones.get(r.userId());
                if (t != null && t > r.version()) {
                    rows.set(i, new ClaimRow(r.activityId(), r.userId(), r.amount(), r.status(), r.requestId(), t,
                            r.updatedAtMillis()));
                }
            }
        }
        for (ClaimRow row : rows) {
            out.put(row.userId(), new Outcome(Result.CLAIMED, row, "claimed", List.of()));
        }
        if (taken.isEmpty()) {
            // the pick that found nothing waited for every shard other transactions held: no budget is left
            for (ClaimRequest r : fresh) {
                out.putIfAbsent(r.userId(), new Outcome(Result.SOLD_OUT, null, "activity " + a.id() + " is sold out", List.of()));
            }
            return new Decided(out, carry);
        }
        // the shards left were held by other transactions, which may roll back or leave budget
        return new Decided(out, carry, List.copyOf(fresh.subList(next, fresh.size())));
    }

    /**
     * UPDATE per shard taken, INSERT of the rows, the tombstone versions of their keys (into
     * tombstones), COMMIT, and, when following is not empty, the opening of that group: one round
     * trip, run in order, stopped by the first error. Returns the following group's opening, or
     * null when there is none.
     */
    private Opening commit(Connection c, Activity a, List<Shard> taken, List<ClaimRow> rows,
                           List<ClaimRequest> following, Map<Long, Long> tombstones) throws SQLException {
        StringBuilder batch = sql.commitSql(a, taken, rows);
        boolean opening = following != null && !following.isEmpty();
        int start = ThreadLocalRandom.current().nextInt(a.shards());
        if (opening) {
            batch.append(';').append(sql.openingSql(a, userIds(following), start));
        }
        try (Statement st = statement(c)) {
            // an error in any statement surfaces here; the results then come in statement order
            boolean resultSet = st.execute(batch.toString());
            for (int i = 0; i < taken.size() + 2; i++) {
                int count = resultSet ? -1 : st.getUpdateCount();
                if (count == -1 || (i == taken.size() && count != rows.size())) {
                    throw uncertain("the claim batch's statement " + (i + 1) + " answered " + count
                            + " where an update count of the UPDATEs, INSERT and COMMIT was expected");
                }
                resultSet = st.getMoreResults();
                if (i == taken.size()) {
                    if (!resultSet) {
                        throw uncertain("the claim batch sent no tombstone read after its INSERT");
                    }
                    readTombstones(st.getResultSet(), tombstones);
                    resultSet = st.getMoreResults();
                }
            }
            if (!opening) {
                return null;
            }
            if (!resultSet) {
                throw uncertain("the server sent fewer results than the statements it was given");
            }
            return readOpening(st, a, start);
        }
    }

    /**
     * Whether the row read is the claim this group sent: the same request, amount and time. The
     * version is left out: the claim table's trigger sets it.
     */
    static boolean sameClaim(ClaimRow read, ClaimRow sent) {
        return sent != null && read.amount() == sent.amount() && read.status().equals(sent.status())
                && read.requestId().equals(sent.requestId()) && read.updatedAtMillis() == sent.updatedAtMillis();
    }

    private static Collection<Long> userIds(List<ClaimRequest> requests) {
        LinkedHashSet<Long> users = new LinkedHashSet<>();
        for (ClaimRequest r : requests) {
            users.add(r.userId());
        }
        return users;
    }

    /** The read of existing claims, START TRANSACTION and the first shard pick, in one round trip. */
    private Opening open(Connection c, Activity a, Collection<Long> users) throws SQLException {
        int start = ThreadLocalRandom.current().nextInt(a.shards());
        try (Statement st = statement(c)) {
            st.execute(sql.openingSql(a, users, start));
            return readOpening(st, a, start);
        }
    }

    private Existing existing(Connection c, long activity, Collection<Long> users) throws SQLException {
        try (Statement st = statement(c)) {
            return readExisting(st.executeQuery(sql.existingSql(activity, users)), activity);
        }
    }

    /** Runs the picks from kind first on, in a transaction already begun; null when none finds budget. */
    private Shard takeShard(Connection c, Activity a, List<Shard> taken, int start, int first, ShardWait wait)
            throws SQLException {
        int last = taken.isEmpty() ? 2 : 1;
        for (int kind = first; kind <= last; kind++) {
            boolean begin = kind == 0 && taken.isEmpty();
            // the pick that waits for a held shard is a round trip of its own: its time is the wait
            boolean timed = kind == 2 && wait.timed;
            long t0 = timed ? System.nanoTime() : 0;
            try (Statement st = statement(c)) {
                st.execute((begin ? "START TRANSACTION;" : "") + sql.pickSql(a, taken, kind, start));
                Shard s = readShard(begin ? nextResultSet(st) : st.getResultSet());
                if (s != null) {
                    return s;
                }
            } finally {
                if (timed) {
                    wait.micros += (System.nanoTime() - t0) / 1000;
                }
            }
        }
        return null;
    }

    /**
     * Ends the transaction after a failure (harmless when none is open). If that fails too the
     * connection is unusable: the pool drops it instead of lending out a connection that may
     * still be inside a transaction.
     */
    void rollback(Connection c, Throwable cause) {
        try {
            execute(c, "ROLLBACK");
        } catch (SQLException e) {
            cause.addSuppressed(e);
            db.evict(c);
        }
    }

    static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // the pool drops a connection it cannot take back
        }
    }

    private static void backoff(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(1, 2 + Math.min(attempt, 10) * 2L));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SQLSTATE of a batch whose answers did not say what it committed (not a server's: those are 5 characters of its own classes). */
    static final String UNCERTAIN = "RPCTL";

    static SQLException uncertain(String message) {
        return new SQLException(message, UNCERTAIN);
    }

    static boolean isDeadlock(SQLException e) {
        return e.getErrorCode() == 1213 || e.getErrorCode() == 1205 || "40001".equals(e.getSQLState());
    }
}
