package dev.rpctl.claim;

import dev.rpctl.app.App;
import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.db.SchemaService;
import dev.rpctl.protocol.ClaimRow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClaimIT {
    App app;

    @BeforeAll
    static void schema() {
        assertEquals(0, Rpctl.withServices().run("db", "init").exitCode());
    }

    @BeforeEach
    void open() {
        app = Services.app();
    }

    @AfterEach
    void close() {
        app.close();
    }

    long activity(int count, long amount, Allocation allocation, int shards) {
        long id = Services.freshActivityId();
        app.activities().create(new ActivityService.NewActivity(id, "it", count, amount, allocation, null, null, shards));
        return id;
    }

    @Test
    void a_duplicate_or_retry_returns_the_original_claim_and_writes_nothing() {
        long a = activity(10, 1000, Allocation.RANDOM, 1);
        ClaimService.Outcome first = app.claimService().claim(a, 1, "req-1");
        assertEquals(ClaimService.Result.CLAIMED, first.result());
        ClaimService.Outcome retry = app.claimService().claim(a, 1, "req-1");
        ClaimService.Outcome other = app.claimService().claim(a, 1, "req-2");
        assertEquals(ClaimService.Result.DUPLICATE, retry.result());
        assertEquals(first.row(), retry.row());
        assertEquals(first.row(), other.row(), "a second request of the same user gets the first claim");
        Activity act = app.activities().require(a);
        assertEquals(1, act.paidCount());
        assertEquals(first.row().amount(), act.paidAmount());
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Allocation.class)
    void a_claim_made_again_after_its_row_was_deleted_ranks_above_the_tombstone_on_both_sides(Allocation allocation)
            throws Exception {
        long a = activity(10, 1000, allocation, 1);
        ClaimService.Outcome first = app.claimService().claim(a, 1, "req-1");
        assertEquals(1, first.row().version());
        // a refund deletes the row; the sync daemon then writes its tombstone, the row's version + 1
        String key = app.protocol().key(a, 1);
        String table = app.config().mapping().claimTable();
        try (Connection c = app.primary().connection(); Statement st = c.createStatement()) {
            // a fix by hand that does not touch the version still moves it (to 2)
            st.execute("UPDATE " + table + " SET status = 'refunding' WHERE activity_id = " + a + " AND user_id = 1");
            st.execute("DELETE FROM " + table + " WHERE activity_id = " + a + " AND user_id = 1");
        }
        for (CacheSide s : app.sides().values()) {
            app.protocol().put(s, key, dev.rpctl.protocol.Entry.tombstone(3));
        }
        ClaimService.Outcome again = app.claimService().claim(a, 1, "req-again");
        assertEquals(ClaimService.Result.CLAIMED, again.result());
        assertEquals(3, again.row().version(), "the key starts again at its tombstone's version");
        try (Connection c = app.primary().connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT version, request_id FROM " + table + " WHERE activity_id = " + a + " AND user_id = 1")) {
            assertTrue(rs.next());
            assertEquals(3, rs.getLong(1), "the primary's row has the version the claim answered with");
        }
        for (CacheSide s : app.sides().values()) {
            dev.rpctl.protocol.Entry e = dev.rpctl.protocol.Entry.decode(s.get(key));
            assertEquals(dev.rpctl.protocol.Entry.Kind.ROW, e.kind(), "side " + s.name() + ": " + s.get(key));
            assertEquals("req-again", e.requestId());
        }
        assertEquals(ClaimService.Result.DUPLICATE, app.claimService().claim(a, 1, "req-3").result());
    }

    @Test
    void random_allocation_pays_out_exactly_the_budget_with_at_least_one_cent_each() {
        long a = activity(50, 400, Allocation.RANDOM, 3);
        long sum = 0;
        for (long u = 1; u <= 50; u++) {
            ClaimService.Outcome o = app.claimService().claim(a, u, null);
            assertEquals(ClaimService.Result.CLAIMED, o.result());
            assertTrue(o.row().amount() >= 1, "amount " + o.row().amount());
            sum += o.row().amount();
        }
        assertEquals(400, sum);
        assertEquals(ClaimService.Result.SOLD_OUT, app.claimService().claim(a, 51, null).result());
        Activity act = app.activities().require(a);
        assertEquals(0, act.remainingCount());
        assertEquals(0, act.remainingAmount());
    }

    @Test
    void sold_out_and_closed_activities_pay_nothing() throws InterruptedException {
        long a = activity(2, 200, Allocation.FIXED, 1);
        assertEquals(ClaimService.Result.CLAIMED, app.claimService().claim(a, 1, null).result());
        assertEquals(ClaimService.Result.CLAIMED, app.claimService().claim(a, 2, null).result());
        assertEquals(ClaimService.Result.SOLD_OUT, app.claimService().claim(a, 3, null).result());
        long later = Services.freshActivityId();
        app.activities().create(new ActivityService.NewActivity(later, "later", 2, 200, Allocation.FIXED,
                Instant.now().plusSeconds(3600), null, 1));
        ClaimService.Outcome o = app.claimService().claim(later, 1, null);
        assertEquals(ClaimService.Result.NOT_STARTED, o.result(), "a claim before the start is not-started, not closed");
        assertTrue(o.reason().contains("starts at"), o.reason());
        Rpctl.Result cli = Rpctl.withServices().run("--json", "claim", "--activity", Long.toString(later), "--user", "2");
        assertEquals(1, cli.exitCode(), cli::toString);
        assertTrue(cli.out().replaceAll("\\s", "").contains("\"result\":\"not_started\""), cli.out());
        app.activities().setStatus(later, "paused");
        // the claim service keeps an activity for a second
        Thread.sleep(1100);
        assertEquals(ClaimService.Result.CLOSED, app.claimService().claim(later, 1, null).result(),
                "paused before its start: refused as closed, the reason says paused");
    }

    /**
     * A group of new claims of a fixed-allocation activity commits in one round trip only when
     * its shard can pay all of it and none of its users has claimed; otherwise it commits nothing
     * and the general path answers it.
     */
    @Test
    void a_one_round_trip_group_commits_only_what_its_shard_can_pay_and_no_second_claim() throws Exception {
        ClaimService claims = app.claimService();
        long a = activity(2, 200, Allocation.FIXED, 1);
        long before = claims.oneRoundTripGroups();
        ClaimService.Outcome first = claims.claim(a, 1, "first");
        assertEquals(ClaimService.Result.CLAIMED, first.result());
        assertEquals(before + 1, claims.oneRoundTripGroups(), "a new claim of a fixed activity takes one round trip");
        // the same user again: the round trip's INSERT meets the claim and commits nothing
        ClaimService.Outcome again = claims.claim(a, 1, "second");
        assertEquals(ClaimService.Result.DUPLICATE, again.result());
        assertEquals(first.row(), again.row());
        assertEquals(ClaimService.Result.CLAIMED, claims.claim(a, 2, null).result());
        // the shard is empty now: the guard stops the UPDATE, nothing is paid or inserted
        long paidBefore = claims.oneRoundTripGroups();
        assertEquals(ClaimService.Result.SOLD_OUT, claims.claim(a, 3, null).result());
        assertEquals(paidBefore, claims.oneRoundTripGroups());
        Activity act = app.activities().require(a);
        assertEquals(0, act.remainingCount());
        assertEquals(0, act.remainingAmount());
        assertEquals(2, act.paidCount());
        assertEquals(200, act.paidAmount());
        assertEquals(0, claimRows(a, 3));

        // an activity whose budget rows are gone (deleted by hand) pays nobody
        long gone = activity(10, 1000, Allocation.FIXED, 1);
        try (Connection c = app.primary().connection(); Statement st = c.createStatement()) {
            st.executeUpdate("DELETE FROM " + SchemaService.budgetTable(app.config().mapping()) + " WHERE activity_id = " + gone);
        }
        // a fresh service: the pause the sold-out shard above set does not apply to it either way
        try (App other = Services.app()) {
            assertEquals(ClaimService.Result.SOLD_OUT, other.claimService().claim(gone, 1, null).result());
        }
        assertEquals(0, claimRows(gone, 1));
    }

    /**
     * A group that used the one shard it could lock without waiting has users left while other
     * transactions hold the shards with budget: those users wait for a held shard and are paid,
     * never told SOLD_OUT while budget remains.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Allocation.class)
    void users_left_when_other_transactions_hold_the_last_shards_wait_for_them_and_are_paid(Allocation allocation)
            throws Exception {
        long a = activity(6, 600, allocation, 3); // two packets a shard
        ClaimTransaction tx = new ClaimTransaction(app.primary(), new ClaimSql(app.config().mapping()));
        Activity act = app.activities().require(a);
        // a group of nothing but a duplicate sends the next group down the general path, which
        // reads before it locks (a one-round-trip group would wait on the held shard it picked)
        long warmup = activity(1, 100, allocation, 1);
        Activity w = app.activities().require(warmup);
        tx.decide(List.of(request(w, 1)), null, ClaimTransaction.NONE);
        tx.decide(List.of(request(w, 1)), null, ClaimTransaction.NONE);
        try (Connection holder = app.primary().connection(); Statement st = holder.createStatement()) {
            holder.setAutoCommit(false);
            st.executeQuery("SELECT shard FROM " + SchemaService.budgetTable(app.config().mapping()) + " WHERE activity_id = "
                    + a + " AND shard > 0 FOR UPDATE").close();
            List<ClaimRequest> group = LongStream.rangeClosed(1, 4).mapToObj(u -> request(act, u)).toList();
            // shard 0 pays two of them; the other two are left for a transaction of their own, not sold out
            ClaimTransaction.Decided first = tx.decide(group, null, ClaimTransaction.NONE);
            for (long u = 1; u <= 2; u++) {
                assertEquals(ClaimService.Result.CLAIMED, first.outcomes().get(u).result(), allocation + " user " + u);
            }
            assertEquals(List.of(3L, 4L), first.unserved().stream().map(ClaimRequest::userId).toList(),
                    allocation + ": " + first.outcomes());
            // that transaction holds no shard: it waits for one the holder has
            java.util.concurrent.CompletableFuture<ClaimTransaction.Decided> decided = async(() -> tx.decide(first.unserved(),
                    null, ClaimTransaction.NONE));
            assertEquals(1, awaitLockWait(a, decided), "the users left wait for a held shard");
            holder.rollback();
            ClaimTransaction.Decided rest = decided.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(List.of(), rest.unserved());
            for (long u = 3; u <= 4; u++) {
                assertEquals(ClaimService.Result.CLAIMED, rest.outcomes().get(u).result(), allocation + " user " + u + ": " + rest.outcomes());
            }
        }
        Activity after = app.activities().require(a);
        assertEquals(2, after.remainingCount());
        assertEquals(4, after.paidCount());
    }

    /** Many threads claiming the last packets of an activity spread over many shards: every packet is paid. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Allocation.class)
    void many_threads_claiming_the_last_packets_over_many_shards_pay_every_packet(Allocation allocation) throws Exception {
        int packets = 300;
        long a = activity(packets, 30_000, allocation, 64);
        int users = 420;
        AtomicInteger claimed = new AtomicInteger();
        AtomicInteger soldOut = new AtomicInteger();
        AtomicInteger nextUser = new AtomicInteger(1);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 96; t++) {
            Thread th = new Thread(() -> {
                try {
                    go.await();
                    for (int u; (u = nextUser.getAndIncrement()) <= users; ) {
                        ClaimService.Outcome o = app.claimService().claim(a, u, null);
                        if (o.result() == ClaimService.Result.CLAIMED) {
                            claimed.incrementAndGet();
                        } else if (o.result() == ClaimService.Result.SOLD_OUT) {
                            soldOut.incrementAndGet();
                        } else {
                            failures.add(new AssertionError("user " + u + ": " + o));
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            threads.add(th);
            th.start();
        }
        go.countDown();
        for (Thread th : threads) {
            th.join();
        }
        assertEquals(List.of(), failures);
        Activity act = app.activities().require(a);
        assertEquals(packets, claimed.get(), allocation + ": claimed " + claimed + ", sold out " + soldOut + " with "
                + act.remainingCount() + " packets and " + act.remainingAmount() + " cents left");
        assertEquals(users - packets, soldOut.get());
        assertEquals(0, act.remainingCount());
        assertEquals(0, act.remainingAmount());
    }

    /**
     * A one-round-trip group whose user's claim is deleted while the group waits for its shard:
     * the insert starts the key again above the deleted row's tombstone, and the claim answers
     * and writes through that version, the one the primary holds.
     */
    @Test
    void a_one_round_trip_claim_racing_a_delete_of_its_key_answers_and_caches_the_version_the_row_has() throws Exception {
        long a = activity(10, 1000, Allocation.FIXED, 1);
        String table = app.config().mapping().claimTable();
        String key = app.protocol().key(a, 1);
        assertEquals(ClaimService.Result.CLAIMED, app.claimService().claim(a, 1, "first").result());
        long groups = app.claimService().oneRoundTripGroups();
        ClaimService.Outcome again;
        try (Connection holder = app.primary().connection(); Statement st = holder.createStatement()) {
            holder.setAutoCommit(false);
            st.executeQuery("SELECT shard FROM " + SchemaService.budgetTable(app.config().mapping()) + " WHERE activity_id = "
                    + a + " FOR UPDATE").close();
            java.util.concurrent.CompletableFuture<ClaimService.Outcome> claim = async(() -> app.claimService().claim(a, 1, "again"));
            assertEquals(1, awaitLockWait(a, claim), "the group waits for its shard");
            try (Connection c = app.primary().connection(); Statement del = c.createStatement()) {
                // a refund: the row goes, its tombstone is version 2
                del.executeUpdate("DELETE FROM " + table + " WHERE activity_id = " + a + " AND user_id = 1");
            }
            holder.rollback();
            again = claim.get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        assertEquals(ClaimService.Result.CLAIMED, again.result(), again::toString);
        assertEquals(groups + 1, app.claimService().oneRoundTripGroups(), "the group committed in one round trip");
        try (Connection c = app.primary().connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT version, request_id FROM " + table + " WHERE activity_id = " + a + " AND user_id = 1")) {
            assertTrue(rs.next());
            assertEquals("again", rs.getString(2));
            assertEquals(2, rs.getLong(1), "the insert starts at the tombstone's version");
        }
        assertEquals(2, again.row().version(), "the claim answers the version its row has");
        for (CacheSide s : app.sides().values()) {
            dev.rpctl.protocol.Entry e = dev.rpctl.protocol.Entry.decode(s.get(key));
            assertEquals("again", e.requestId(), "side " + s.name() + ": " + s.get(key));
            assertEquals(2, e.version(), "side " + s.name() + ": " + s.get(key));
        }
    }

    /**
     * The general path's read finds no claim; while the group waits for a shard, an outside writer
     * inserts the user's claim and deletes it again: the group's insert starts above that
     * tombstone, and the claim answers the version its row has.
     */
    @Test
    void a_claim_whose_key_was_deleted_after_its_read_answers_the_version_the_row_has() throws Exception {
        long a = activity(10, 1000, Allocation.RANDOM, 1);
        String table = app.config().mapping().claimTable();
        ClaimService.Outcome claimed;
        try (Connection holder = app.primary().connection(); Statement st = holder.createStatement()) {
            holder.setAutoCommit(false);
            st.executeQuery("SELECT shard FROM " + SchemaService.budgetTable(app.config().mapping()) + " WHERE activity_id = "
                    + a + " FOR UPDATE").close();
            java.util.concurrent.CompletableFuture<ClaimService.Outcome> claim = async(() -> app.claimService().claim(a, 7, "mine"));
            assertEquals(1, awaitLockWait(a, claim), "the group waits for its shard");
            try (Connection c = app.primary().connection(); Statement other = c.createStatement()) {
                other.executeUpdate("INSERT INTO " + table + " (activity_id, user_id, amount, status, request_id, version)"
                        + " VALUES (" + a + ", 7, 1, 'paid', 'outside', 1)");
                other.executeUpdate("DELETE FROM " + table + " WHERE activity_id = " + a + " AND user_id = 7");
            }
            holder.rollback();
            claimed = claim.get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        assertEquals(ClaimService.Result.CLAIMED, claimed.result(), claimed::toString);
        try (Connection c = app.primary().connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT version FROM " + table + " WHERE activity_id = " + a + " AND user_id = 7")) {
            assertTrue(rs.next());
            assertEquals(2, rs.getLong(1), "the insert starts at the tombstone's version");
        }
        assertEquals(2, claimed.row().version(), "the claim answers the version its row has");
        for (CacheSide s : app.sides().values()) {
            assertEquals(2, dev.rpctl.protocol.Entry.decode(s.get(app.protocol().key(a, 7))).version(), "side " + s.name());
        }
    }

    /**
     * Claims made by one process are counted for 'activity show' run by another. An activity whose
     * claims ran alone shows them with no warning; one whose claims waited while a holder had
     * every shard locked gets the warning, naming the activity and how to give it more shards.
     */
    @Test
    void activity_show_warns_when_claims_of_any_process_wait_on_shard_locks_and_not_otherwise() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Rpctl rpctl = Rpctl.withServices();
        long calm = activity(100, 10_000, Allocation.FIXED, 2);
        long held = activity(100, 10_000, Allocation.FIXED, 2);
        // another process's claims: its statistics reach the table at its close at the latest
        try (App other = Services.app()) {
            for (long u = 1; u <= 20; u++) {
                assertEquals(ClaimService.Result.CLAIMED, other.claimService().claim(calm, u, null).result());
            }
        }
        com.fasterxml.jackson.databind.JsonNode calmStats = json.readTree(
                rpctl.run("--json", "activity", "show", "--activity", Long.toString(calm)).out()).get("claim_stats");
        assertEquals(20, calmStats.get("claims").asLong(), calmStats::toString);
        assertTrue(calmStats.get("warning").isNull(), calmStats::toString);
        Rpctl.Result calmShown = rpctl.run("activity", "show", "--activity", Long.toString(calm));
        assertEquals(0, calmShown.exitCode(), calmShown::toString);
        assertTrue(calmShown.out().contains("shard lock wait"), calmShown::toString);
        assertTrue(!calmShown.out().contains("waited on budget-shard locks"), calmShown::toString);
        // the holder keeps the shards many times as long as a claim took alone, so the wait is most of the claims' time
        double meanClaimMillis = calmStats.get("claim_time_ms").asDouble() / calmStats.get("claims").asLong();
        long holdMillis = Math.max(200, (long) (20 * meanClaimMillis));
        try (App other = Services.app()) {
            try (Connection holder = app.primary().connection(); Statement st = holder.createStatement()) {
                holder.setAutoCommit(false);
                st.executeQuery("SELECT shard FROM " + SchemaService.budgetTable(app.config().mapping()) + " WHERE activity_id = "
                        + held + " FOR UPDATE").close();
                List<java.util.concurrent.CompletableFuture<ClaimService.Outcome>> claims = new ArrayList<>();
                for (long u = 1; u <= 3; u++) {
                    long user = u;
                    claims.add(async(() -> other.claimService().claim(held, user, null)));
                }
                java.util.concurrent.CompletableFuture<Void> all = java.util.concurrent.CompletableFuture.allOf(
                        claims.toArray(new java.util.concurrent.CompletableFuture[0]));
                assertTrue(awaitLockWait(held, all) >= 1, "the claims wait for the held shards");
                Thread.sleep(holdMillis);
                holder.rollback();
                for (var c : claims) {
                    assertEquals(ClaimService.Result.CLAIMED, c.get(30, java.util.concurrent.TimeUnit.SECONDS).result());
                }
            }
        }
        Rpctl.Result shown = rpctl.run("activity", "show", "--activity", Long.toString(held));
        assertEquals(0, shown.exitCode(), shown::toString);
        assertTrue(shown.out().contains("activity " + held + ": claims waited on budget-shard locks"), shown::toString);
        assertTrue(shown.out().contains("activity create --shards N"), shown::toString);
        com.fasterxml.jackson.databind.JsonNode heldStats = json.readTree(
                rpctl.run("--json", "activity", "show", "--activity", Long.toString(held)).out()).get("claim_stats");
        assertEquals(3, heldStats.get("claims").asLong(), heldStats::toString);
        assertTrue(heldStats.get("shard_wait_share").asDouble() >= ClaimStats.SHARD_WAIT_WARNING, heldStats::toString);
        assertTrue(heldStats.get("warning").asText().contains("activity " + held), heldStats::toString);
    }

    /**
     * Claims queued while the committer is busy go in groups of at most claim.max-group: with 3, the
     * seven claims queued behind a group waiting for its shard take three more groups.
     */
    @Test
    void claims_queued_behind_a_busy_committer_go_in_groups_of_at_most_max_group() throws Exception {
        long a = activity(100, 10_000, Allocation.FIXED, 1);
        try (ClaimService one = new ClaimService(app.primary(), app.config().mapping(), app.activities(), app.protocol(),
                app.writeThrough(), java.time.Clock.systemUTC(), 1, 3)) {
            try (Connection holder = app.primary().connection(); Statement st = holder.createStatement()) {
                holder.setAutoCommit(false);
                st.executeQuery("SELECT shard FROM " + SchemaService.budgetTable(app.config().mapping()) + " WHERE activity_id = "
                        + a + " FOR UPDATE").close();
                java.util.concurrent.CompletableFuture<ClaimService.Outcome> first = async(() -> one.claim(a, 1, null));
                assertEquals(1, awaitLockWait(a, first), "the first group waits for its shard");
                ClaimService.GroupStats before = one.groupStats();
                List<Thread> queued = new ArrayList<>();
                List<java.util.concurrent.CompletableFuture<ClaimService.Outcome>> rest = new ArrayList<>();
                for (long u = 2; u <= 8; u++) {
                    long user = u;
                    java.util.concurrent.CompletableFuture<ClaimService.Outcome> f = new java.util.concurrent.CompletableFuture<>();
                    Thread t = new Thread(() -> f.complete(one.claim(a, user, null)));
                    t.setDaemon(true);
                    t.start();
                    queued.add(t);
                    rest.add(f);
                }
                // a claim's thread waits for its answer once its request is queued (a thread parked on
                // the queue's lock is WAITING too, before its request is in)
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
                for (Thread t : queued) {
                    while (!(t.getState() == Thread.State.WAITING && java.util.Arrays.stream(t.getStackTrace()).anyMatch(
                            f -> f.getClassName().equals(java.util.concurrent.CompletableFuture.class.getName())
                                    && f.getMethodName().equals("join")))) {
                        assertTrue(System.nanoTime() < deadline, "a claim's request was not queued in 30 s");
                        Thread.sleep(5);
                    }
                }
                holder.rollback();
                assertEquals(ClaimService.Result.CLAIMED, first.get(30, java.util.concurrent.TimeUnit.SECONDS).result());
                for (var f : rest) {
                    assertEquals(ClaimService.Result.CLAIMED, f.get(30, java.util.concurrent.TimeUnit.SECONDS).result());
                }
                ClaimService.GroupStats g = one.groupStats().minus(before);
                assertEquals(8, g.claims(), g::toString);
                assertEquals(4, g.groups(), "1 + 3 + 3 + 1: " + g);
            }
        }
    }

    /** Runs work on a thread of its own (the common pool may be busy with another test's leftovers). */
    static <T> java.util.concurrent.CompletableFuture<T> async(java.util.function.Supplier<T> work) {
        java.util.concurrent.CompletableFuture<T> f = new java.util.concurrent.CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(work.get());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, "claim-it-async");
        t.setDaemon(true);
        t.start();
        return f;
    }

    static ClaimRequest request(Activity a, long user) {
        return new ClaimRequest(a, user, "r" + user, Instant.now(), new java.util.concurrent.CompletableFuture<>());
    }

    /**
     * Waits until a claim of the activity waits for a shard lock, or the work ended without
     * waiting (the assertion after it then fails), and returns the waiting statements.
     */
    long awaitLockWait(long activity, java.util.concurrent.Future<?> work) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!work.isDone() && lockWaits(activity) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return lockWaits(activity);
    }

    /**
     * Statements of the activity's claims running on the server that wait for a locked shard
     * (picks that skip locked shards left out): with the holder's locks on the budget rows, those
     * are claims waiting for it. Only statements running for 200 ms or more count: a claim's
     * statement that reads the budget rows without waiting can be seen for an instant, and a
     * wait for the holder lasts as long as the holder does. (innodb_trx is no help: MariaDB does
     * not always list a locking SELECT that waits.)
     */
    long lockWaits(long activity) throws Exception {
        try (Connection c = Services.root(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM information_schema.processlist WHERE command = 'Query'"
                     + " AND time_ms >= 200"
                     + " AND info LIKE '%" + SchemaService.budgetTable(app.config().mapping()) + "%activity_id = " + activity
                     + " %' AND info NOT LIKE '%SKIP LOCKED%' AND info NOT LIKE '%processlist%'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    long claimRows(long activity, long user) throws Exception {
        try (Connection c = app.primary().connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + app.config().mapping().claimTable()
                     + " WHERE activity_id = " + activity + " AND user_id = " + user)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void the_claim_is_written_through_to_both_sides() {
        long a = activity(10, 1000, Allocation.FIXED, 1);
        ClaimRow row = app.claimService().claim(a, 5, "r5").row();
        for (CacheSide s : app.sides().values()) {
            assertEquals("R|1|100|paid|r5|" + row.updatedAtMillis(), s.get(app.protocol().key(a, 5)), "side " + s.name());
        }
    }

    /** 64 threads of claims and reads over few users and a small budget, released at once. */
    @Test
    void many_threads_over_few_users_never_claim_twice_or_overspend_and_leave_every_entry_right() throws Exception {
        for (Allocation allocation : Allocation.values()) {
            int budget = 25;
            long a = activity(budget, allocation == Allocation.FIXED ? 2500 : 3000, allocation, 4);
            int users = 40;
            ClaimReader readerA = new ClaimReader(app.protocol(), app.side("a"), app.claims());
            ClaimReader readerB = new ClaimReader(app.protocol(), app.side("b"), app.claims());
            Map<Long, Long> amountSeen = new ConcurrentHashMap<>();
            AtomicInteger conflicts = new AtomicInteger();
            AtomicInteger claimed = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = new ArrayList<>();
            for (int t = 0; t < 64; t++) {
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                        ThreadLocalRandom rnd = ThreadLocalRandom.current();
                        for (int i = 0; i < 60; i++) {
                            long user = 1 + rnd.nextInt(users);
                            if (rnd.nextBoolean()) {
                                (rnd.nextBoolean() ? readerA : readerB).read(a, user);
                                continue;
                            }
                            ClaimService.Outcome o = app.claimService().claim(a, user, "u" + user);
                            if (o.result() == ClaimService.Result.CLAIMED) {
                                claimed.incrementAndGet();
                            }
                            if (o.row() != null) {
                                Long prev = amountSeen.putIfAbsent(user, o.row().amount());
                                if (prev != null && prev != o.row().amount()) {
                                    conflicts.incrementAndGet();
                                }
                            }
                        }
                    } catch (Throwable e) {
                        synchronized (failures) {
                            failures.add(e);
                        }
                    }
                });
                threads.add(th);
                th.start();
            }
            go.countDown();
            for (Thread th : threads) {
                th.join();
            }
            assertEquals(List.of(), failures);
            assertEquals(0, conflicts.get(), "a user was told two different amounts");
            VerifyService.Report v = new VerifyService(app.primary(), app.config().mapping(), app.activities(), app.claims(),
                    app.protocol(), List.copyOf(app.sides().values()))
                    .verify(a, LongStream.rangeClosed(1, users).boxed().toList());
            assertEquals(0, v.usersWithTwoClaims());
            assertTrue(v.paidCount() <= budget, allocation + ": paid " + v.paidCount());
            assertEquals(claimed.get(), v.paidCount());
            assertTrue(v.paidAmount() <= v.totalAmount());
            assertTrue(!v.remainingMismatch(), v.toString());
            for (VerifyService.SideCheck s : v.sides()) {
                assertEquals(0, s.differing(), allocation + " side " + s.side() + ": " + s.examples());
            }
            assertTrue(v.consistent());
        }
    }
}
