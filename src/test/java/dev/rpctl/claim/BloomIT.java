package dev.rpctl.claim;

import dev.rpctl.app.App;
import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import dev.rpctl.TestSides;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.RawRedis;
import dev.rpctl.protocol.BloomFilters;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.reconcile.ReconcileReport;
import dev.rpctl.reconcile.ReconcileService;
import dev.rpctl.reconcile.Scope;
import dev.rpctl.inspect.InspectService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Bloom filter of claimers: readers of users who never claimed, the build under claims, and no false negative. */
class BloomIT {
    App app;
    long activity;
    CacheProtocol protocol;
    BloomFilters blooms;

    @BeforeAll
    static void schema() {
        assertEquals(0, Rpctl.withServices().run("db", "init").exitCode());
    }

    @BeforeEach
    void open() {
        app = Services.app();
        protocol = app.protocol();
        blooms = protocol.blooms();
        activity = Services.freshActivityId();
        app.activities().create(new ActivityService.NewActivity(activity, "it", 10_000, 1_000_000, Allocation.FIXED, null, null, 8));
    }

    @AfterEach
    void close() {
        app.close();
    }

    @Test
    void a_user_who_never_claimed_is_answered_from_the_filter_and_a_claimer_from_the_cache_or_the_primary() {
        for (long u = 1; u <= 50; u++) {
            assertEquals(ClaimService.Result.CLAIMED, app.claimService().claim(activity, u, null).result());
        }
        Rpctl.Result built = Rpctl.withServices().run("warm", "--activity", Long.toString(activity), "--bloom");
        assertEquals(0, built.exitCode(), built::toString);
        assertTrue(built.out().contains("Bloom filter of 50 claimers ready"), built.out());
        for (String side : new String[] {"a", "b"}) {
            ClaimReader reader = app.claimReader(side);
            int primaryReads = 0;
            for (long u = 1_000; u < 3_000; u++) {
                ClaimReader.Read r = reader.read(activity, u);
                assertTrue(r.claim().isEmpty());
                primaryReads += r.source() == ClaimReader.Source.CACHE ? 0 : 1;
            }
            // 1% false positives configured: about 20 of 2,000 go to the primary
            assertTrue(primaryReads <= 60, "primary reads for 2000 non-claimers on side " + side + ": " + primaryReads);
            // a claimer whose entry is gone (evicted) is read from the primary, never answered by the filter
            RawRedis.call(app.side(side), j -> j.del(protocol.key(activity, 7)));
            assertTrue(reader.read(activity, 7).claim().isPresent());
        }
    }

    @Test
    void a_claim_answered_is_in_the_filter_of_both_sides_before_any_read_after_it() {
        buildEmpty();
        for (long u = 1; u <= 200; u++) {
            assertEquals(ClaimService.Result.CLAIMED, app.claimService().claim(activity, u, null).result());
            for (CacheSide s : app.sides().values()) {
                // the entry evicted the moment the claim is answered: only the filter stands between the reader and "no claim"
                RawRedis.call(s, j -> j.del(protocol.key(activity, 0)));
                long user = u;
                RawRedis.call(s, j -> j.del(protocol.key(activity, user)));
                assertTrue(app.claimReader(s.name()).read(activity, u).claim().isPresent(), "user " + u + " side " + s.name());
            }
        }
    }

    @Test
    void claims_made_while_the_filter_is_built_are_all_in_it() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        List<Long> claimed = new ArrayList<>();
        Thread claims = new Thread(() -> {
            for (long u = 1; !stop.get() && u <= 5_000; u++) {
                if (app.claimService().claim(activity, u, null).result() == ClaimService.Result.CLAIMED) {
                    synchronized (claimed) {
                        claimed.add(u);
                    }
                }
            }
        });
        claims.start();
        // claims before the build, and more after it: the build ran while they went on
        awaitClaimed(claimed, 5);
        app.warmService("all").buildBloom(activity, 10_000, (n, s) -> { });
        int atBuild;
        synchronized (claimed) {
            atBuild = claimed.size();
        }
        awaitClaimed(claimed, atBuild + 5);
        stop.set(true);
        claims.join();
        List<Long> all;
        synchronized (claimed) {
            all = List.copyOf(claimed);
        }
        assertTrue(all.size() >= 10, all::toString);
        for (CacheSide s : app.sides().values()) {
            List<BloomFilters.Answer> answers = blooms.check(s, activity, all);
            assertFalse(answers.contains(BloomFilters.Answer.NOT_A_CLAIMER), "side " + s.name());
            assertFalse(answers.contains(BloomFilters.Answer.NO_FILTER));
        }
    }

    @Test
    void on_a_cluster_side_the_reader_asks_the_filter_then_takes_the_lease() {
        CacheSide cluster = TestSides.of("cluster");
        try {
            BloomFilters.Size size = BloomFilters.Size.of(100, 0.01);
            blooms.start(cluster, activity, size, Duration.ofMinutes(5));
            blooms.ready(cluster, activity, size);
            protocol.putAll(cluster, List.of(new CacheProtocol.Write(protocol.key(activity, 5),
                    dev.rpctl.protocol.Entry.row(new dev.rpctl.protocol.ClaimRow(activity, 5, 1, "paid", "r", 1, 0)), activity, 5)));
            RawRedis.call(cluster, j -> j.del(protocol.key(activity, 5)));
            assertEquals(null, protocol.readOrLease(cluster, protocol.key(activity, 5), "t", activity, 5), "a claimer takes the lease");
            assertEquals("P|0", protocol.readOrLease(cluster, protocol.key(activity, 6), "t", activity, 6));
        } finally {
            cluster.close();
        }
    }

    @Test
    void inspect_shows_the_filter_and_reconcile_finds_and_adds_a_claimer_it_lacks() {
        // claimed while the activity had no filter, then a filter made ready without the table scan
        assertEquals(ClaimService.Result.CLAIMED, app.claimService().claim(activity, 9, null).result());
        buildEmpty();
        InspectService.Report before = app.inspectService().inspect(9, activity, false);
        assertEquals("not-a-claimer", before.keys().get(0).bloom().get("a"));
        assertFalse(before.consistent());
        ReconcileService.Request dry = new ReconcileService.Request(new Scope(activity, null, null, null, List.of("a", "b")),
                true, ReconcileService.RepairMode.REWRITE, 0, 100, false);
        ReconcileReport found = app.reconcileService("all").run(dry, (c, s, w) -> { });
        assertEquals(1, found.sides().get(0).bloomMissing());
        assertFalse(found.consistent());
        ReconcileReport fixed = app.reconcileService("all").run(new ReconcileService.Request(dry.scope(), false,
                ReconcileService.RepairMode.REWRITE, 0, 100, false), (c, s, w) -> { });
        assertTrue(fixed.consistent(), fixed.toString());
        assertEquals("maybe", app.inspectService().inspect(9, activity, false).keys().get(0).bloom().get("b"));
    }

    /** A ready filter that holds nobody: what a build leaves when the table has no claimer yet. */
    private void buildEmpty() {
        BloomFilters.Size size = BloomFilters.Size.of(10_000, 0.01);
        for (CacheSide s : app.sides().values()) {
            blooms.start(s, activity, size, Duration.ofMinutes(5));
            blooms.ready(s, activity, size);
        }
    }

    /** Waits until the claims thread has made {@code n} claims (30 s at most). */
    private static void awaitClaimed(List<Long> claimed, int n) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            synchronized (claimed) {
                if (claimed.size() >= n) {
                    return;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("the claims thread made fewer than " + n + " claims in 30 s");
    }
}
