package dev.rpctl.claim;

import dev.rpctl.app.App;
import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import dev.rpctl.TestSides;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.RawRedis;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The races of the read path, each forced by holding a reader between its primary read and its
 * fill while the competing write happens.
 */
class ReadRaceIT {
    App app;
    CacheSide side;
    ClaimService claims;
    WriteThrough writeThrough;
    ClaimReader reader;
    CacheProtocol protocol;
    long activity;
    final CountDownLatch readerAtFill = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @BeforeAll
    static void schema() {
        assertEquals(0, Rpctl.withServices().run("db", "init").exitCode());
    }

    void setUp(String kind) {
        app = Services.app();
        side = TestSides.of(kind);
        protocol = app.protocol();
        writeThrough = new WriteThrough(protocol, List.of(side), 2, java.time.Duration.ofSeconds(1));
        claims = new ClaimService(app.primary(), app.config().mapping(), app.activities(), protocol, writeThrough,
                Clock.systemUTC(), 2, 128);
        reader = new ClaimReader(protocol, side, app.claims());
        activity = Services.freshActivityId();
        app.activities().create(new ActivityService.NewActivity(activity, "race", 100, 10_000, Allocation.FIXED, null, null, 1));
        reader.afterPrimaryRead(k -> {
            readerAtFill.countDown();
            await(release);
        });
    }

    @AfterEach
    void tearDown() {
        claims.close();
        writeThrough.close();
        side.close();
        app.close();
    }

    CompletableFuture<ClaimReader.Read> pausedRead(long user) throws InterruptedException {
        CompletableFuture<ClaimReader.Read> f = CompletableFuture.supplyAsync(() -> reader.read(activity, user));
        assertTrue(readerAtFill.await(10, TimeUnit.SECONDS), "reader did not reach its fill");
        return f;
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void a_claim_committed_during_a_fill_is_not_overwritten_by_the_stale_placeholder(String kind) throws Exception {
        setUp(kind);
        CompletableFuture<ClaimReader.Read> read = pausedRead(7);
        // the reader saw no row; now the claim commits and is written through
        ClaimService.Outcome o = claims.claim(activity, 7, "r7");
        assertEquals(ClaimService.Result.CLAIMED, o.result());
        release.countDown();
        assertEquals(Optional.empty(), read.get(10, TimeUnit.SECONDS).claim());
        Entry e = Entry.decode(side.get(protocol.key(activity, 7)));
        assertTrue(e.sameRow(o.row()), "cache holds " + e);
        assertEquals(Optional.of(o.row().amount()), reader.read(activity, 7).claim().map(ClaimRow::amount));
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void a_fill_across_an_eviction_is_dropped(String kind) throws Exception {
        setUp(kind);
        String key = protocol.key(activity, 8);
        CompletableFuture<ClaimReader.Read> read = pausedRead(8);
        RawRedis.call(side, j -> j.del(key));
        release.countDown();
        read.get(10, TimeUnit.SECONDS);
        assertEquals(null, side.get(key), "the fill went in without its lease");
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void a_row_deleted_while_being_filled_stays_deleted(String kind) throws Exception {
        setUp(kind);
        ClaimRow row = claims.claim(activity, 9, "r9").row();
        String key = protocol.key(activity, 9);
        RawRedis.call(side, j -> j.del(key));
        CompletableFuture<ClaimReader.Read> read = pausedRead(9);
        // the row goes; its invalidation is a tombstone of the last version + 1
        try (Connection c = app.primary().connection(); Statement st = c.createStatement()) {
            st.executeUpdate("DELETE FROM rp_claim WHERE activity_id = " + activity + " AND user_id = 9");
        }
        protocol.put(side, key, Entry.tombstone(row.version() + 1));
        release.countDown();
        read.get(10, TimeUnit.SECONDS);
        assertEquals("T|2", side.get(key));
        assertEquals(Optional.empty(), reader.read(activity, 9).claim());
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void a_reader_that_finds_another_readers_lease_reads_the_primary_without_filling(String kind) throws Exception {
        setUp(kind);
        claims.claim(activity, 10, "r10");
        String key = protocol.key(activity, 10);
        RawRedis.call(side, j -> j.del(key));
        CompletableFuture<ClaimReader.Read> first = pausedRead(10);
        ClaimReader other = new ClaimReader(protocol, side, app.claims());
        ClaimReader.Read second = other.read(activity, 10);
        assertEquals(ClaimReader.Source.PRIMARY, second.source());
        assertTrue(second.claim().isPresent());
        assertTrue(side.get(key).startsWith("L|"), "the lease is still the first reader's");
        release.countDown();
        assertEquals(ClaimReader.Source.FILLED, first.get(10, TimeUnit.SECONDS).source());
        assertTrue(side.get(key).startsWith("R|1|"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void concurrent_misses_of_one_key_in_one_process_share_one_primary_read(String kind) throws Exception {
        setUp(kind);
        ClaimRow row = claims.claim(activity, 11, "r11").row();
        RawRedis.call(side, j -> j.del(protocol.key(activity, 11)));
        CompletableFuture<ClaimReader.Read> first = pausedRead(11);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(16);
        CountDownLatch started = new CountDownLatch(16);
        List<CompletableFuture<ClaimReader.Read>> others = new java.util.ArrayList<>();
        for (int i = 0; i < 16; i++) {
            others.add(CompletableFuture.supplyAsync(() -> {
                started.countDown();
                return reader.read(activity, 11);
            }, pool));
        }
        assertTrue(started.await(10, TimeUnit.SECONDS));
        // give them time to meet the first reader's lease; without coalescing each would now read the primary
        Thread.sleep(200);
        release.countDown();
        assertEquals(ClaimReader.Source.FILLED, first.get(10, TimeUnit.SECONDS).source());
        for (CompletableFuture<ClaimReader.Read> f : others) {
            ClaimReader.Read r = f.get(10, TimeUnit.SECONDS);
            assertTrue(r.source() != ClaimReader.Source.PRIMARY, "a reader went to the primary on its own");
            assertEquals(Optional.of(row.amount()), r.claim().map(ClaimRow::amount));
        }
        pool.shutdown();
    }

    static void await(CountDownLatch l) {
        try {
            l.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
