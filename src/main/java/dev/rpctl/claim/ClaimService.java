package dev.rpctl.claim;

import dev.rpctl.RpctlException;
import dev.rpctl.config.MappingSettings;
import dev.rpctl.db.Database;
import dev.rpctl.db.SchemaService;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.VersionOutOfRangeException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Claims. Exactly once per (activity, user): a duplicate or a retry returns the original claim and
 * writes nothing. The budget is taken in the same transaction as the insert, from the activity's
 * budget shards, so it can never be overspent.
 * <p>Claims are committed in groups: a few committer threads each take whatever claims are queued
 * (no timer) and commit them as one transaction (one multi-row insert, one update per budget shard,
 * one commit); the committer then writes the rows to every cache side through the write-through
 * (both single-Redis sides at once) and answers the claims. Under load one commit and one round
 * trip serve many claims; an idle claim is committed alone at once.
 */
public final class ClaimService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClaimService.class);
    private static final long ACTIVITY_CACHE_NANOS = 1_000_000_000L;
    private static final int RETRIES = 20;
    private static final int MAX_GROUP = 64;
    private static final int ER_DUP_ENTRY = 1062;
    /** "Subquery returns more than 1 row": how a one-round-trip group's budget guard stops its batch. */
    private static final int ER_SUBQUERY_NO_1_ROW = 1242;
    /** After a one-round-trip group found its shard short of budget, the activity's groups take the general path this long. */
    private static final long FAST_PAUSE_NANOS = 1_000_000_000L;

    public enum Result { CLAIMED, DUPLICATE, SOLD_OUT, CLOSED }

    /** The outcome; row is set for CLAIMED and DUPLICATE; failedSides lists sides the write-through missed. */
    public record Outcome(Result result, ClaimRow row, String reason, List<String> failedSides) {}

    private record Request(Activity activity, long userId, String requestId, Instant now, CompletableFuture<Outcome> result) {}

    /** Budget taken from one shard: its row is locked until the commit. */
    private record Shard(int shard, long count, long amount) {}

    private final Database db;
    private final ActivityService activities;
    private final CacheProtocol protocol;
    private final WriteThrough writeThrough;
    private final Clock clock;
    private final String claimTable;
    private final String budgetTable;
    private final String tombstoneTable;
    private final SchemaService schema;
    private final String version;
    private final int committers;
    private final BlockingQueue<Request> queue = new LinkedBlockingQueue<>(16_384);
    private final List<Thread> threads = new ArrayList<>();
    /** Committers waiting for a claim: while one waits, the others leave it the queue. */
    private final AtomicInteger idle = new AtomicInteger();
    /** Set once the committers run: every claim checks it without taking the lock. */
    private volatile boolean started;
    private final Map<Long, CachedActivity> activityCache = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** Whether the last group had a new claim: then the next one opens its transaction with its first read. */
    private volatile boolean expectFresh = true;
    /** Activities whose one-round-trip groups are paused (a shard was short of budget), until System.nanoTime(). */
    private final Map<Long, Long> fastPaused = new ConcurrentHashMap<>();
    private final AtomicLong oneRoundTripGroups = new AtomicLong();

    private record CachedActivity(Activity activity, long loadedNanos) {}

    public ClaimService(Database db, MappingSettings mapping, ActivityService activities,
                        CacheProtocol protocol, WriteThrough writeThrough, Clock clock, int committers) {
        this.db = db;
        this.activities = activities;
        this.protocol = protocol;
        this.writeThrough = writeThrough;
        this.clock = clock;
        this.claimTable = mapping.claimTable();
        this.budgetTable = SchemaService.budgetTable(mapping);
        this.tombstoneTable = SchemaService.tombstoneTable(mapping);
        this.schema = new SchemaService(db, mapping);
        this.version = mapping.versionColumn();
        this.committers = committers;
    }

    public static void checkRequestId(String requestId) {
        if (requestId != null && !isRequestId(requestId)) {
            throw RpctlException.usage("--request-id must be 1-64 characters of A-Z a-z 0-9 . _ : -, got \"" + requestId + "\"");
        }
    }

    /** 0-64 characters of A-Z a-z 0-9 . _ : -, the only ones that can never need quoting in SQL. */
    static boolean isRequestId(String s) {
        if (s.length() > 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
                    || ch == '.' || ch == '_' || ch == ':' || ch == '-')) {
                return false;
            }
        }
        return true;
    }

    public Outcome claim(long activityId, long userId, String requestId) {
        checkRequestId(requestId);
        Activity a = activity(activityId);
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        String closedReason = a.closedReason(now);
        if (closedReason != null) {
            return new Outcome(Result.CLOSED, null, closedReason, List.of());
        }
        if (!started) {
            startCommitters();
        }
        Request r = new Request(a, userId, requestId == null ? "" : requestId, now, new CompletableFuture<>());
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

    private synchronized void startCommitters() {
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
        ArrayDeque<Request> pending = new ArrayDeque<>();
        Carry carry = null;
        try {
            // once closed, the requests already taken are still decided; the queue is left to close()
            while (carry != null || !pending.isEmpty() || !closed) {
                List<Request> group;
                if (carry != null) {
                    group = carry.requests();
                } else {
                    if (pending.isEmpty()) {
                        idle.incrementAndGet();
                        Request first;
                        try {
                            first = queue.poll(200, TimeUnit.MILLISECONDS);
                        } finally {
                            idle.decrementAndGet();
                        }
                        if (first == null) {
                            continue;
                        }
                        pending.add(first);
                        queue.drainTo(pending, MAX_GROUP - 1);
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
                rollback(carry.connection(), stopped);
                closeQuietly(carry.connection());
                carry.requests().forEach(r -> r.result().completeExceptionally(stopped));
            }
            pending.forEach(r -> r.result().completeExceptionally(stopped));
        }
    }

    /** Takes up to MAX_GROUP requests of one activity out of pending, in their order. */
    private static List<Request> takeGroup(ArrayDeque<Request> pending, long activity) {
        List<Request> group = new ArrayList<>(Math.min(MAX_GROUP, pending.size()));
        for (Iterator<Request> it = pending.iterator(); it.hasNext() && group.size() < MAX_GROUP; ) {
            Request r = it.next();
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
    private Carry commitGroup(List<Request> requests, Carry carry, ArrayDeque<Request> pending) {
        Decided d;
        try {
            d = decide(requests, carry, pending);
        } catch (RuntimeException e) {
            for (Request r : requests) {
                r.result().completeExceptionally(e);
            }
            return null;
        }
        Map<Long, Outcome> outcomes = d.outcomes();
        try {
            List<CacheProtocol.Write> writes = new ArrayList<>();
            for (Outcome o : outcomes.values()) {
                if (o.result() == Result.CLAIMED) {
                    try {
                        writes.add(new CacheProtocol.Write(protocol.key(o.row().activityId(), o.row().userId()), Entry.row(o.row())));
                    } catch (VersionOutOfRangeException e) {
                        // committed at a version no entry can carry (a key deleted at the top of the range): not cached
                        log.warn("claim of activity {} user {}: {}", o.row().activityId(), o.row().userId(), e.getMessage());
                    }
                }
            }
            if (writes.isEmpty()) {
                // nothing to write through (duplicates, sold out): answer at once
                answer(requests, outcomes, List.of());
            } else {
                // answered when every side has the rows or their time is up: single-Redis sides are
                // written on this thread, Cluster and Sentinel sides by their writers
                writeThrough.submit(writes).thenAccept(failed -> answer(requests, outcomes, failed));
            }
        } catch (RuntimeException e) {
            for (Request r : requests) {
                r.result().completeExceptionally(e);
            }
        }
        return d.next();
    }

    /** Answers each request of a group; failed lists the sides the write-through missed. */
    private static void answer(List<Request> requests, Map<Long, Outcome> outcomes, List<String> failed) {
        Map<Long, Boolean> answered = new HashMap<>();
        for (Request r : requests) {
            Outcome o = outcomes.get(r.userId());
            if (o.result() == Result.CLAIMED) {
                // a second request of the same user in this group is that claim's duplicate
                o = answered.putIfAbsent(r.userId(), true) == null
                        ? new Outcome(Result.CLAIMED, o.row(), o.reason(), failed)
                        : new Outcome(Result.DUPLICATE, o.row(), "already claimed", List.of());
            }
            r.result().complete(o);
        }
    }

    /**
     * How a group's transaction begins. When it begun, the read of existing claims, START
     * TRANSACTION and the first shard pick went in one round trip; shard is that pick's answer
     * (null when no unlocked shard at or above start had budget).
     */
    private record Opening(Existing existing, boolean begun, Shard shard, int start) {}

    /**
     * What the duplicate read found: the claims the users already have, and the tombstone version
     * of each user's key that was deleted before (the version the claim table's trigger gives a
     * row inserted there again).
     */
    private record Existing(List<ClaimRow> rows, Map<Long, Long> tombstones) {
        long startVersion(long userId) {
            Long v = tombstones.get(userId);
            return v == null ? 1 : Math.max(1, v);
        }
    }

    /**
     * A group whose transaction the previous group's commit batch opened: its first read and
     * shard pick ran right after that commit, on the same connection, which the committer keeps
     * for it. Under load a group then costs one round trip.
     */
    private record Carry(List<Request> requests, Connection connection, Opening opening) {}

    /** The answers of a group, and the next group when this one's batch opened its transaction. */
    private record Decided(Map<Long, Outcome> outcomes, Carry next) {}

    /**
     * The outcome per user, committed; retried whole when InnoDB picks it as a deadlock victim or a
     * same-user race. A carried group starts on its open transaction.
     */
    private Decided decide(List<Request> requests, Carry carry, ArrayDeque<Request> pending) {
        Activity a = requests.get(0).activity();
        LinkedHashMap<Long, Request> byUser = new LinkedHashMap<>();
        for (Request r : requests) {
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
                    d = attempt(c, a, byUser, opening, pending, tried, attempt == 0);
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
                throw db.translate(e);
            } finally {
                if (c != null && (d == null || d.next() == null)) {
                    closeQuietly(c);
                }
            }
        }
    }

    private Decided attempt(Connection c, Activity a, Map<Long, Request> byUser, Opening carried,
                            ArrayDeque<Request> pending, Map<Long, ClaimRow> tried, boolean first) throws SQLException {
        // a retry (a same-user race, a deadlock) reads first: what failed it is likely still there
        if (first && carried == null && expectFresh && a.allocation() == Allocation.FIXED && !fastPaused(a.id())) {
            Decided d = oneRoundTrip(c, a, byUser);
            if (d != null) {
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
            out.put(row.userId(), row.equals(tried.get(row.userId()))
                    ? new Outcome(Result.CLAIMED, row, "claimed", List.of())
                    : new Outcome(Result.DUPLICATE, row, "already claimed", List.of()));
        }
        List<Request> fresh = new ArrayList<>();
        for (Request r : byUser.values()) {
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
        return insert(c, a, fresh, out, open, existing, pending, tried);
    }

    /** Groups committed in one round trip so far. */
    public long oneRoundTripGroups() {
        return oneRoundTripGroups.get();
    }

    private boolean fastPaused(long activity) {
        Long until = fastPaused.get(activity);
        if (until == null) {
            return false;
        }
        if (System.nanoTime() - until < 0) {
            return true;
        }
        fastPaused.remove(activity, until);
        return false;
    }

    /**
     * A group of a fixed-allocation activity in one round trip, for when its users are expected to
     * be new: the duplicate read, then in one transaction the budget of the whole group taken from
     * one random shard, the claims inserted and the commit. It commits only if all of them can be
     * paid from that shard and none of the users has claimed:
     * <ul>
     * <li>the shard's UPDATE fails with "subquery returns more than 1 row" when the shard holds
     *     less than the group's count or amount (the guard's second row appears only then), and
     *     the server runs nothing after a failed statement, the COMMIT included;</li>
     * <li>the INSERT is a plain INSERT (a claimed user fails it on the duplicate key), and takes its
     *     activity id from the shard's row, so with no such row it inserts nothing.</li>
     * </ul>
     * Returns null when it committed nothing (a user had claimed, the shard was short or missing, a
     * deadlock): the caller then takes the general path, which reads before it writes.
     */
    private Decided oneRoundTrip(Connection c, Activity a, Map<Long, Request> byUser) throws SQLException {
        int n = byUser.size();
        long amount = a.fixedAmount();
        long total = n * amount;
        int shard = ThreadLocalRandom.current().nextInt(a.shards());
        List<ClaimRow> rows = new ArrayList<>(n);
        for (Request r : byUser.values()) {
            rows.add(new ClaimRow(a.id(), r.userId(), amount, "paid", r.requestId(), 1, r.now().toEpochMilli()));
        }
        StringBuilder sql = new StringBuilder(512 + 96 * n).append(existingSql(a.id(), byUser.keySet()))
                .append(";START TRANSACTION;UPDATE ").append(budgetTable)
                .append(" SET remaining_count = remaining_count - ").append(n)
                .append(" + (SELECT 0 UNION ALL SELECT 0 FROM DUAL WHERE remaining_count < ").append(n)
                .append(" OR remaining_amount < ").append(total).append("), remaining_amount = remaining_amount - ")
                .append(total).append(", ").append(version).append(" = ").append(version)
                .append(" + 1 WHERE activity_id = ").append(a.id()).append(" AND shard = ").append(shard)
                .append(";INSERT INTO ").append(claimTable)
                .append(" (activity_id, user_id, amount, status, request_id, ").append(version)
                .append(", created_at, updated_at) SELECT b.activity_id, v.u, v.a, 'paid', v.r, 1, v.t, v.t FROM ")
                .append(budgetTable).append(" b JOIN (");
        for (int i = 0; i < n; i++) {
            ClaimRow r = rows.get(i);
            sql.append(i == 0 ? "SELECT " : " UNION ALL SELECT ").append(r.userId()).append(i == 0 ? " AS u, " : ", ")
                    .append(r.amount()).append(i == 0 ? " AS a, " : ", ").append(quoted(r.requestId()))
                    .append(i == 0 ? " AS r, '" : ", '").append(sqlMillis(r.updatedAtMillis())).append(i == 0 ? "' AS t" : "'");
        }
        sql.append(") v WHERE b.activity_id = ").append(a.id()).append(" AND b.shard = ").append(shard).append(";COMMIT");
        int updated;
        int inserted;
        Existing existing;
        try (Statement st = statement(c)) {
            st.execute(sql.toString());
            existing = readExisting(st.getResultSet(), a.id());
            st.getMoreResults();
            st.getMoreResults();
            updated = st.getUpdateCount();
            st.getMoreResults();
            inserted = st.getUpdateCount();
            st.getMoreResults();
        } catch (SQLException e) {
            if (e.getErrorCode() != ER_DUP_ENTRY && e.getErrorCode() != ER_SUBQUERY_NO_1_ROW && !isDeadlock(e)) {
                throw e;
            }
            // nothing after the failed statement ran: end the transaction, then read before writing
            execute(c, "ROLLBACK");
            if (e.getErrorCode() == ER_SUBQUERY_NO_1_ROW) {
                fastPaused.put(a.id(), System.nanoTime() + FAST_PAUSE_NANOS);
            }
            return null;
        }
        if (updated == 0 && inserted == 0) {
            // no such shard: the transaction changed nothing
            fastPaused.put(a.id(), System.nanoTime() + FAST_PAUSE_NANOS);
            return null;
        }
        if (updated != 1 || inserted != n || !existing.rows().isEmpty()) {
            throw new IllegalStateException("claims of activity " + a.id() + ": the one-round-trip batch updated " + updated
                    + " shard row(s) and inserted " + inserted + " of " + n + " claims beside " + existing.rows().size()
                    + " existing ones");
        }
        expectFresh = true;
        oneRoundTripGroups.incrementAndGet();
        Map<Long, Outcome> out = new LinkedHashMap<>();
        for (ClaimRow row : rows) {
            // inserted at version 1; the trigger started a key deleted before at its tombstone version
            long v = existing.startVersion(row.userId());
            ClaimRow paid = v == row.version() ? row : new ClaimRow(row.activityId(), row.userId(), row.amount(),
                    row.status(), row.requestId(), v, row.updatedAtMillis());
            out.put(row.userId(), new Outcome(Result.CLAIMED, paid, "claimed", List.of()));
        }
        return new Decided(out, null);
    }

    /**
     * Takes budget for the fresh users from as many shards as they need, inserts their claims and
     * commits; the budget updates, the insert and the commit go as one multi-statement batch. The
     * insert is a plain INSERT: when another request of one of these users committed first it
     * fails with a duplicate key and the server runs nothing after it, the commit included.
     * When more claims of the activity are waiting, the batch ends with their opening, and they
     * come back as the next group.
     */
    private Decided insert(Connection c, Activity a, List<Request> fresh, Map<Long, Outcome> out, Opening open,
                           Existing existing, ArrayDeque<Request> pending, Map<Long, ClaimRow> tried) throws SQLException {
        List<ClaimRow> rows = new ArrayList<>(fresh.size());
        List<Shard> taken = new ArrayList<>(1);
        int next = 0;
        while (next < fresh.size()) {
            Shard s;
            if (taken.isEmpty() && open.begun()) {
                s = open.shard() != null ? open.shard() : takeShard(c, a, taken, open.start(), 1);
            } else {
                s = takeShard(c, a, taken, ThreadLocalRandom.current().nextInt(a.shards()), 0);
            }
            if (s == null) {
                break;
            }
            long count = s.count();
            long left = s.amount();
            while (next < fresh.size() && count > 0) {
                Request r = fresh.get(next++);
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
            List<Request> following = null;
            // a committer that waits for claims takes the queue itself, in parallel with this batch.
            // A fixed-allocation activity's next group is not opened here: it goes in one round
            // trip of its own, and holds no shard lock while this group is written through
            if (!closed && idle.get() == 0 && a.allocation() != Allocation.FIXED) {
                queue.drainTo(pending, Math.max(0, MAX_GROUP - pending.size()));
                // only while this activity's requests are the oldest waiting: others go first
                if (!pending.isEmpty() && pending.peekFirst().activity().id() == a.id()) {
                    following = takeGroup(pending, a.id());
                }
            }
            for (ClaimRow row : rows) {
                tried.put(row.userId(), row);
            }
            try {
                Opening opened = commitBatch(c, a, taken, rows, following);
                if (opened != null) {
                    carry = new Carry(following, c, opened);
                }
            } catch (SQLException | RuntimeException e) {
                // nothing after the failed statement ran: those requests wait for their turn again
                if (following != null) {
                    for (int i = following.size() - 1; i >= 0; i--) {
                        pending.addFirst(following.get(i));
                    }
                }
                throw e;
            }
        }
        for (ClaimRow row : rows) {
            out.put(row.userId(), new Outcome(Result.CLAIMED, row, "claimed", List.of()));
        }
        for (Request r : fresh) {
            out.putIfAbsent(r.userId(), new Outcome(Result.SOLD_OUT, null, "activity " + a.id() + " is sold out", List.of()));
        }
        return new Decided(out, carry);
    }

    /**
     * UPDATE per shard taken, INSERT of the rows, COMMIT, and, when following is not empty, the
     * opening of that group: one round trip, run in order, stopped by the first error. Returns the
     * following group's opening, or null when there is none.
     */
    private Opening commitBatch(Connection c, Activity a, List<Shard> taken, List<ClaimRow> rows,
                                List<Request> following) throws SQLException {
        StringBuilder sql = new StringBuilder(256 + 96 * rows.size());
        for (Shard s : taken) {
            sql.append("UPDATE ").append(budgetTable).append(" SET remaining_count = ").append(s.count())
                    .append(", remaining_amount = ").append(s.amount()).append(", ").append(version).append(" = ")
                    .append(version).append(" + 1 WHERE activity_id = ").append(a.id()).append(" AND shard = ")
                    .append(s.shard()).append(';');
        }
        sql.append("INSERT INTO ").append(claimTable)
                .append(" (activity_id, user_id, amount, status, request_id, ").append(version)
                .append(", created_at, updated_at) VALUES ");
        for (int i = 0; i < rows.size(); i++) {
            ClaimRow r = rows.get(i);
            // the time as text: the column keeps its milliseconds whatever the server's version says
            sql.append(i == 0 ? "(" : ", (").append(r.activityId()).append(", ").append(r.userId()).append(", ")
                    .append(r.amount()).append(", 'paid', ").append(quoted(r.requestId())).append(", ")
                    .append(r.version()).append(", '");
            String ts = sqlMillis(r.updatedAtMillis());
            sql.append(ts).append("', '").append(ts).append("')");
        }
        sql.append(";COMMIT");
        boolean opening = following != null && !following.isEmpty();
        int start = ThreadLocalRandom.current().nextInt(a.shards());
        if (opening) {
            sql.append(';').append(openingSql(a, userIds(following), start));
        }
        try (Statement st = statement(c)) {
            // an error in any statement surfaces here; the results then come in statement order
            boolean resultSet = st.execute(sql.toString());
            for (int i = 0; i < taken.size() + 2; i++) {
                int count = resultSet ? -1 : st.getUpdateCount();
                if (count == -1 || (i == taken.size() && count != rows.size())) {
                    throw new SQLException("the claim batch's statement " + (i + 1) + " answered " + count
                            + " where an update count of the UPDATEs, INSERT and COMMIT was expected");
                }
                resultSet = st.getMoreResults();
            }
            if (!opening) {
                return null;
            }
            if (!resultSet) {
                throw new SQLException("the server sent fewer results than the statements it was given");
            }
            return readOpening(st, a, start);
        }
    }

    private static Collection<Long> userIds(List<Request> requests) {
        LinkedHashSet<Long> users = new LinkedHashSet<>();
        for (Request r : requests) {
            users.add(r.userId());
        }
        return users;
    }

    /** The read of existing claims, START TRANSACTION and the first shard pick, in one round trip. */
    private Opening open(Connection c, Activity a, Collection<Long> users) throws SQLException {
        int start = ThreadLocalRandom.current().nextInt(a.shards());
        try (Statement st = statement(c)) {
            st.execute(openingSql(a, users, start));
            return readOpening(st, a, start);
        }
    }

    /** The results of openingSql, the statement standing on its first: existing claims, then the pick. */
    private static Opening readOpening(Statement st, Activity a, int start) throws SQLException {
        Existing existing = readExisting(st.getResultSet(), a.id());
        return new Opening(existing, true, readShard(nextResultSet(st)), start);
    }

    private String openingSql(Activity a, Collection<Long> users, int start) {
        return existingSql(a.id(), users) + ";START TRANSACTION;" + pickSql(a, List.of(), 0, start);
    }

    private static final String[] PICKS = {" AND shard >= ", " AND shard < ", " AND shard >= "};
    private static final String[] LOCKS = {
            " ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED",
            " ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED",
            " ORDER BY shard LIMIT 1 FOR UPDATE",
    };

    /**
     * A shard pick. 0 and 1 lock a shard with budget that no other transaction holds (SKIP
     * LOCKED), from start up and then below it, so concurrent groups spread over the shards.
     * 2 waits for a held one, scanning from the first shard: only a transaction that holds no
     * shard yet runs it, and only while committed budget is left, so waits cannot form a cycle
     * and a sold-out activity takes no lock at all. Shards already taken are left out: their
     * updates wait for the commit batch, and SKIP LOCKED does not skip this transaction's own locks.
     */
    private String pickSql(Activity a, List<Shard> taken, int kind, int start) {
        long min = Math.max(1, a.allocation() == Allocation.FIXED ? a.fixedAmount() : 1);
        StringBuilder sql = new StringBuilder("SELECT shard, remaining_count, remaining_amount FROM ").append(budgetTable)
                .append(" WHERE activity_id = ").append(a.id()).append(" AND remaining_count > 0 AND remaining_amount >= ")
                .append(min);
        for (int i = 0; i < taken.size(); i++) {
            sql.append(i == 0 ? " AND shard NOT IN (" : ", ").append(taken.get(i).shard());
        }
        return sql.append(taken.isEmpty() ? "" : ")").append(PICKS[kind]).append(kind == 2 ? 0 : start)
                .append(LOCKS[kind]).toString();
    }

    /** Runs the picks from kind first on, in a transaction already begun; null when none finds budget. */
    private Shard takeShard(Connection c, Activity a, List<Shard> taken, int start, int first) throws SQLException {
        int last = taken.isEmpty() ? 2 : 1;
        for (int kind = first; kind <= last; kind++) {
            boolean begin = kind == 0 && taken.isEmpty();
            try (Statement st = statement(c)) {
                st.execute((begin ? "START TRANSACTION;" : "") + pickSql(a, taken, kind, start));
                Shard s = readShard(begin ? nextResultSet(st) : st.getResultSet());
                if (s != null) {
                    return s;
                }
            }
        }
        return null;
    }

    /**
     * A plain statement for the claim path's SQL, which carries its values as literals: numbers,
     * times formatted here and request ids checked by isRequestId. Prepared statements would
     * make the driver parse a different multi-statement text for every group size on every call.
     */
    private static Statement statement(Connection c) throws SQLException {
        Statement st = c.createStatement();
        st.setEscapeProcessing(false);
        return st;
    }

    /** A request id as an SQL string literal; only the characters isRequestId allows ever get here. */
    private static String quoted(String requestId) {
        if (!isRequestId(requestId)) {
            throw new IllegalArgumentException("request id outside [A-Za-z0-9._:-]{0,64}: " + requestId);
        }
        return "'" + requestId + "'";
    }

    /** The UTC time as yyyy-MM-dd HH:mm:ss.SSS, without a DateTimeFormatter (which cost more than the rest of a row). */
    static String sqlMillis(long epochMillis) {
        StringBuilder sb = new StringBuilder(23);
        long day = Math.floorDiv(epochMillis, 86_400_000L);
        int ms = (int) Math.floorMod(epochMillis, 86_400_000L);
        LocalDate d = LocalDate.ofEpochDay(day);
        int year = d.getYear();
        if (year < 1000 || year > 9999) {
            throw new IllegalArgumentException("time outside the years 1000-9999: " + epochMillis);
        }
        sb.append(year).append('-');
        two(sb, d.getMonthValue()).append('-');
        two(sb, d.getDayOfMonth()).append(' ');
        two(sb, ms / 3_600_000).append(':');
        two(sb, ms / 60_000 % 60).append(':');
        two(sb, ms / 1000 % 60).append('.');
        int frac = ms % 1000;
        sb.append((char) ('0' + frac / 100)).append((char) ('0' + frac / 10 % 10)).append((char) ('0' + frac % 10));
        return sb.toString();
    }

    private static StringBuilder two(StringBuilder sb, int v) {
        return sb.append((char) ('0' + v / 10)).append((char) ('0' + v % 10));
    }

    /** Moves past update counts (a START TRANSACTION's OK) to the next result set. */
    private static ResultSet nextResultSet(Statement st) throws SQLException {
        while (!st.getMoreResults()) {
            if (st.getUpdateCount() == -1) {
                throw new SQLException("the server sent fewer results than the statements it was given");
            }
        }
        return st.getResultSet();
    }

    private static Shard readShard(ResultSet rs) throws SQLException {
        try (rs) {
            return rs.next() ? new Shard(rs.getInt(1), rs.getLong(2), rs.getLong(3)) : null;
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // the pool drops a connection it cannot take back
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = statement(c)) {
            st.execute(sql);
        }
    }

    /**
     * Ends the transaction after a failure (harmless when none is open). If that fails too the
     * connection is unusable: the pool drops it instead of lending out a connection that may
     * still be inside a transaction.
     */
    private void rollback(Connection c, Throwable cause) {
        try {
            execute(c, "ROLLBACK");
        } catch (SQLException e) {
            cause.addSuppressed(e);
            db.evict(c);
        }
    }

    /** The users' claims (last column 0), then the tombstone versions of their deleted keys (1). */
    private String existingSql(long activity, Collection<Long> users) {
        StringBuilder in = new StringBuilder(users.size() * 10);
        String sep = "";
        for (long u : users) {
            in.append(sep).append(u);
            sep = ", ";
        }
        return "SELECT user_id, amount, status, request_id, " + version
                + ", CAST(UNIX_TIMESTAMP(updated_at) * 1000 AS SIGNED), 0 FROM " + claimTable
                + " WHERE activity_id = " + activity + " AND user_id IN (" + in
                + ") UNION ALL SELECT user_id, 0, '', '', version, 0, 1 FROM " + tombstoneTable
                + " WHERE activity_id = " + activity + " AND user_id IN (" + in + ')';
    }

    private static Existing readExisting(ResultSet rs, long activity) throws SQLException {
        List<ClaimRow> rows = new ArrayList<>();
        Map<Long, Long> tombstones = Map.of();
        try (rs) {
            while (rs.next()) {
                if (rs.getInt(7) == 1) {
                    if (tombstones.isEmpty()) {
                        tombstones = new HashMap<>();
                    }
                    tombstones.put(rs.getLong(1), rs.getLong(5));
                } else {
                    rows.add(new ClaimRow(activity, rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                            rs.getLong(5), rs.getLong(6)));
                }
            }
        }
        return new Existing(rows, tombstones);
    }

    private Existing existing(Connection c, long activity, Collection<Long> users) throws SQLException {
        try (Statement st = statement(c)) {
            return readExisting(st.executeQuery(existingSql(activity, users)), activity);
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

    @Override
    public void close() {
        closed = true;
        List<Thread> committing;
        synchronized (this) {
            committing = List.copyOf(threads);
        }
        // committers stop taking groups; one inside a transaction finishes it. Groups already
        // committed are written through and answered by the write-through, which closes after this.
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
        for (Request r; (r = queue.poll()) != null; ) {
            r.result().completeExceptionally(RpctlException.temporary("shutting down; the claim was not made"));
        }
    }
}
