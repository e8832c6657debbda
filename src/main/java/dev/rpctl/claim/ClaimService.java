package dev.rpctl.claim;

import dev.rpctl.RpctlException;
import dev.rpctl.config.MappingSettings;
import dev.rpctl.db.Database;
import dev.rpctl.db.SchemaService;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Claims. Exactly once per (activity, user): a duplicate or a retry returns the original claim and
 * writes nothing. The budget is taken in the same transaction as the insert, from the activity's
 * budget shards, so it can never be overspent.
 * <p>Claims are committed in groups: a few committer threads each take whatever claims are queued
 * (no timer) and commit them as one transaction (one multi-row insert, one update per budget shard,
 * one commit); a finisher thread then writes the rows through to every cache side in one pipeline
 * per side and answers the claims, while the committer takes the next group. Under load one
 * commit and one round trip serve many claims; an idle claim is committed alone at once.
 */
public final class ClaimService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClaimService.class);
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{0,64}");
    private static final long ACTIVITY_CACHE_NANOS = 1_000_000_000L;
    private static final int RETRIES = 20;
    private static final int MAX_GROUP = 64;
    private static final DateTimeFormatter SQL_MILLIS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

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
    private final String version;
    private final int committers;
    private final BlockingQueue<Request> queue = new LinkedBlockingQueue<>(16_384);
    private final List<Thread> threads = new ArrayList<>();
    /**
     * One finisher per committer, a short queue, and a committer that finds both full writes its
     * group through itself: slow sides slow the committers down instead of piling groups up.
     */
    private final ThreadPoolExecutor finishers;
    private final Map<Long, CachedActivity> activityCache = new ConcurrentHashMap<>();
    private volatile boolean closed;

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
        this.version = mapping.versionColumn();
        this.committers = committers;
        this.finishers = new ThreadPoolExecutor(committers, committers, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(committers), r -> {
                    Thread t = new Thread(r, "claim-finisher");
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.CallerRunsPolicy());
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
        String closedReason = a.closedReason(now);
        if (closedReason != null) {
            return new Outcome(Result.CLOSED, null, closedReason, List.of());
        }
        startCommitters();
        Request r = new Request(a, userId, requestId == null ? "" : requestId, now, new CompletableFuture<>());
        try {
            queue.put(r);
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
        for (int i = 0; i < committers; i++) {
            Thread t = new Thread(this::commitLoop, "claim-committer-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private void commitLoop() {
        List<Request> group = new ArrayList<>(MAX_GROUP);
        while (!closed) {
            try {
                Request first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                group.clear();
                group.add(first);
                queue.drainTo(group, MAX_GROUP - 1);
                Map<Long, List<Request>> byActivity = new LinkedHashMap<>();
                for (Request r : group) {
                    byActivity.computeIfAbsent(r.activity().id(), k -> new ArrayList<>()).add(r);
                }
                for (List<Request> rs : byActivity.values()) {
                    commitGroup(rs);
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Commits the claims of one activity, then hands the write-through and the answers to a
     * finisher, so the committer can take the next group while this one's entries go to the
     * sides. Every request's future is completed, whatever happens.
     */
    private void commitGroup(List<Request> requests) {
        Map<Long, Outcome> outcomes;
        try {
            outcomes = decide(requests);
        } catch (RuntimeException e) {
            for (Request r : requests) {
                r.result().completeExceptionally(e);
            }
            return;
        }
        if (outcomes.values().stream().noneMatch(o -> o.result() == Result.CLAIMED)) {
            // nothing to write through (duplicates, sold out): answer at once
            finish(requests, outcomes);
            return;
        }
        try {
            finishers.execute(() -> finish(requests, outcomes));
        } catch (RejectedExecutionException shutDown) {
            finish(requests, outcomes);
        }
    }

    /** Writes the group's new entries through to the sides and answers each request. */
    private void finish(List<Request> requests, Map<Long, Outcome> outcomes) {
        try {
            List<CacheProtocol.Write> writes = new ArrayList<>();
            for (Outcome o : outcomes.values()) {
                if (o.result() == Result.CLAIMED) {
                    writes.add(new CacheProtocol.Write(protocol.key(o.row().activityId(), o.row().userId()), Entry.row(o.row())));
                }
            }
            List<String> failed = writes.isEmpty() ? List.of() : writeThrough.write(writes);
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
        } catch (RuntimeException e) {
            for (Request r : requests) {
                r.result().completeExceptionally(e);
            }
        }
    }

    /** The outcome per user, committed; retried whole when InnoDB picks it as a deadlock victim or a same-user race. */
    private Map<Long, Outcome> decide(List<Request> requests) {
        Activity a = requests.get(0).activity();
        LinkedHashMap<Long, Request> byUser = new LinkedHashMap<>();
        for (Request r : requests) {
            byUser.putIfAbsent(r.userId(), r);
        }
        for (int attempt = 0; ; attempt++) {
            try (Connection c = db.connection()) {
                Map<Long, Outcome> out = new LinkedHashMap<>();
                // duplicates and retries are answered from one read, with no lock and no write
                for (ClaimRow row : existing(c, a.id(), byUser.keySet())) {
                    out.put(row.userId(), new Outcome(Result.DUPLICATE, row, "already claimed", List.of()));
                }
                List<Request> fresh = new ArrayList<>();
                for (Request r : byUser.values()) {
                    if (!out.containsKey(r.userId())) {
                        fresh.add(r);
                    }
                }
                if (!fresh.isEmpty() && !insert(c, a, fresh, out)) {
                    if (attempt >= RETRIES) {
                        throw new IllegalStateException("claims of activity " + a.id() + " kept racing with other requests of the same users");
                    }
                    continue;
                }
                return out;
            } catch (SQLException e) {
                if (isDeadlock(e) && attempt < RETRIES) {
                    // InnoDB rolled this transaction back: nothing was paid, try again
                    backoff(attempt);
                    continue;
                }
                throw db.translate(e);
            }
        }
    }

    /**
     * One transaction: take budget for the fresh users, insert their claims, commit. Returns false
     * (rolled back) when another request of one of these users committed first; the caller
     * reads again and answers that one as a duplicate.
     */
    private boolean insert(Connection c, Activity a, List<Request> fresh, Map<Long, Outcome> out) throws SQLException {
        c.setAutoCommit(false);
        try {
            List<ClaimRow> rows = new ArrayList<>(fresh.size());
            int next = 0;
            boolean holding = false;
            while (next < fresh.size()) {
                Shard s = takeShard(c, a, holding);
                if (s == null) {
                    break;
                }
                holding = true;
                long count = s.count();
                long left = s.amount();
                while (next < fresh.size() && count > 0) {
                    Request r = fresh.get(next++);
                    long amount = a.allocation().next(count, left, a.fixedAmount());
                    count--;
                    left -= amount;
                    rows.add(new ClaimRow(a.id(), r.userId(), amount, "paid", r.requestId(), 1, r.now().toEpochMilli()));
                }
                try (PreparedStatement ps = c.prepareStatement("UPDATE " + budgetTable + " SET remaining_count = ?,"
                        + " remaining_amount = ?, " + version + " = " + version + " + 1 WHERE activity_id = ? AND shard = ?")) {
                    ps.setLong(1, count);
                    ps.setLong(2, left);
                    ps.setLong(3, a.id());
                    ps.setInt(4, s.shard());
                    ps.executeUpdate();
                }
            }
            if (!rows.isEmpty() && insertRows(c, rows) != rows.size()) {
                c.rollback();
                return false;
            }
            c.commit();
            for (ClaimRow row : rows) {
                out.put(row.userId(), new Outcome(Result.CLAIMED, row, "claimed", List.of()));
            }
            for (Request r : fresh) {
                out.putIfAbsent(r.userId(), new Outcome(Result.SOLD_OUT, null, "activity " + a.id() + " is sold out", List.of()));
            }
            return true;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /**
     * Locks a shard with budget that no other transaction holds (SKIP LOCKED, from a random
     * start), so concurrent groups spread over the shards. Only a transaction that holds no shard
     * yet waits for a held one, and only while committed budget is left, so waits cannot form a
     * cycle and a sold-out activity takes no lock at all.
     */
    private Shard takeShard(Connection c, Activity a, boolean holding) throws SQLException {
        long min = Math.max(1, a.allocation() == Allocation.FIXED ? a.fixedAmount() : 1);
        String pick = "SELECT shard, remaining_count, remaining_amount FROM " + budgetTable
                + " WHERE activity_id = ? AND remaining_count > 0 AND remaining_amount >= ?";
        int start = ThreadLocalRandom.current().nextInt(a.shards());
        Shard s = shard(c, pick + " AND shard >= ? ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED", a.id(), min, start);
        if (s == null) {
            s = shard(c, pick + " AND shard < ? ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED", a.id(), min, start);
        }
        if (s == null && !holding) {
            s = shard(c, pick + " AND shard >= ? ORDER BY shard LIMIT 1 FOR UPDATE", a.id(), min, 0);
        }
        return s;
    }

    private static Shard shard(Connection c, String sql, long activity, long min, int from) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, activity);
            ps.setLong(2, min);
            ps.setInt(3, from);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Shard(rs.getInt(1), rs.getLong(2), rs.getLong(3)) : null;
            }
        }
    }

    private int insertRows(Connection c, List<ClaimRow> rows) throws SQLException {
        StringBuilder sql = new StringBuilder("INSERT IGNORE INTO ").append(claimTable)
                .append(" (activity_id, user_id, amount, status, request_id, ").append(version)
                .append(", created_at, updated_at) VALUES ");
        for (int i = 0; i < rows.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append("(?, ?, ?, 'paid', ?, 1, ?, ?)");
        }
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int p = 1;
            for (ClaimRow r : rows) {
                // as text: Connector/J takes MariaDB's "5.5.5-" version prefix for a server without
                // fractional seconds and would drop the milliseconds of a Timestamp parameter
                String ts = SQL_MILLIS.format(Instant.ofEpochMilli(r.updatedAtMillis()));
                ps.setLong(p++, r.activityId());
                ps.setLong(p++, r.userId());
                ps.setLong(p++, r.amount());
                ps.setString(p++, r.requestId());
                ps.setString(p++, ts);
                ps.setString(p++, ts);
            }
            return ps.executeUpdate();
        }
    }

    private List<ClaimRow> existing(Connection c, long activity, java.util.Collection<Long> users) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT user_id, amount, status, request_id, ").append(version)
                .append(", CAST(UNIX_TIMESTAMP(updated_at) * 1000 AS SIGNED) FROM ").append(claimTable)
                .append(" WHERE activity_id = ? AND user_id IN (");
        for (int i = 0; i < users.size(); i++) {
            sql.append(i == 0 ? "?" : ", ?");
        }
        sql.append(')');
        List<ClaimRow> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int p = 1;
            ps.setLong(p++, activity);
            for (long u : users) {
                ps.setLong(p++, u);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new ClaimRow(activity, rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                            rs.getLong(5), rs.getLong(6)));
                }
            }
        }
        return out;
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
        // committers stop taking groups; one inside a transaction finishes it
        try {
            for (Thread t : committing) {
                t.join(5_000);
            }
            // groups already committed are written through and answered before the sides close
            finishers.shutdown();
            if (!finishers.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("claims: write-through of committed claims still running at shutdown; the binlog pipeline will apply them");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Request r; (r = queue.poll()) != null; ) {
            r.result().completeExceptionally(RpctlException.temporary("shutting down; the claim was not made"));
        }
    }
}
