package dev.rpctl.claim;

import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import dev.rpctl.app.App;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.config.BadDataPolicy;
import dev.rpctl.config.HostPort;
import dev.rpctl.config.SideMode;
import dev.rpctl.config.SideSettings;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.protocol.ClaimRow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads of a side that cannot be reached: answered from the primary, within the fallback bound. */
class ReadFallbackIT {
    App app;
    long activity;
    final List<AutoCloseable> opened = new ArrayList<>();

    @BeforeAll
    static void schema() {
        assertEquals(0, Rpctl.withServices().run("db", "init").exitCode());
    }

    @BeforeEach
    void setUp() {
        app = Services.app();
        activity = Services.freshActivityId();
        app.activities().create(new ActivityService.NewActivity(activity, "fallback", 1000, 100_000, Allocation.FIXED, null, null, 1));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        app.close();
    }

    CacheSide side(int port) {
        CacheSide s = new CacheSide(new SideSettings("r", SideMode.SINGLE, List.of(new HostPort("127.0.0.1", port)),
                "", "", "", false, 0, Duration.ofMillis(500), 16));
        opened.add(s);
        return s;
    }

    /** Users 1-20 claimed (through the given side), 21-40 not: the amount each read must answer. */
    Map<Long, Long> claimed(CacheSide through) {
        WriteThrough wt = new WriteThrough(app.protocol(), List.of(through), 1, Duration.ofSeconds(1));
        ClaimService claims = new ClaimService(app.primary(), app.config().mapping(), app.activities(), app.protocol(), wt,
                Clock.systemUTC(), 2, 128);
        Map<Long, Long> amounts = new HashMap<>();
        try (wt; claims) {
            for (long u = 1; u <= 20; u++) {
                amounts.put(u, claims.claim(activity, u, "r" + u).row().amount());
            }
        }
        return amounts;
    }

    @Test
    void reads_of_a_side_stopped_under_load_are_answered_from_the_primary_and_return_to_the_side_when_it_is_back()
            throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path dir = Files.createTempDirectory("rpctl-it-redis-");
        Process redis = startRedis(port, dir);
        try {
            CacheSide side = side(port);
            Map<Long, Long> amounts = claimed(side);
            int threads = 8;
            int bound = 4;
            ClaimReader reader = new ClaimReader(app.protocol(), side, app.claims(), bound, BadDataPolicy.FAIL);
            AtomicBoolean stop = new AtomicBoolean();
            LongAdder right = new LongAdder();
            LongAdder fromSide = new LongAdder();
            LongAdder overBound = new LongAdder();
            ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<CompletableFuture<Void>> loops = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                loops.add(CompletableFuture.runAsync(() -> {
                    while (!stop.get()) {
                        long user = 1 + ThreadLocalRandom.current().nextLong(40);
                        try {
                            ClaimReader.Read r = reader.read(activity, user);
                            Optional<Long> expected = Optional.ofNullable(amounts.get(user));
                            if (r.claim().map(ClaimRow::amount).equals(expected)) {
                                right.increment();
                            } else {
                                wrong.add("user " + user + ": " + r);
                            }
                            if (r.source() == ClaimReader.Source.CACHE || r.source() == ClaimReader.Source.FILLED) {
                                fromSide.increment();
                            }
                        } catch (RpctlException e) {
                            if (e.exitCode() == ExitCode.UNAVAILABLE && e.getMessage().contains("claim.read-fallback-concurrency")) {
                                overBound.increment();
                            } else {
                                wrong.add("user " + user + ": " + e.getMessage());
                            }
                        }
                    }
                }, pool));
            }
            await(() -> fromSide.sum() >= 500, "reads from the side before it stops");
            shutdown(port, redis);
            await(() -> reader.fallbacks() >= 500, "reads from the primary while the side is down");
            long fallbacksWhileDown = reader.fallbacks();
            redis = startRedis(port, dir);
            long before = fromSide.sum();
            await(() -> fromSide.sum() >= before + 500, "reads from the side after it is back");
            stop.set(true);
            for (CompletableFuture<Void> f : loops) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();

            assertEquals(List.of(), List.copyOf(wrong), "every read answered right or refused over the bound");
            assertTrue(fallbacksWhileDown >= 500, "fallbacks: " + fallbacksWhileDown);
            assertEquals(reader.refused(), overBound.sum(), "every refused read is counted");
            assertTrue(right.sum() > 0);
        } finally {
            shutdown(port, redis);
        }
    }

    @Test
    void the_primary_never_serves_more_fallback_reads_at_once_than_the_bound() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Map<Long, Long> amounts = claimed(app.side("a"));
        int bound = 3;
        int readers = 10;
        ClaimReader reader = new ClaimReader(app.protocol(), side(closed), app.claims(), bound, BadDataPolicy.FAIL);
        String table = app.config().mapping().claimTable();
        ExecutorService pool = Executors.newFixedThreadPool(readers);
        try (Connection lock = app.primary().connection(); Statement st = lock.createStatement()) {
            // every read of the claim table now waits inside MySQL, where the processlist shows it
            st.execute("LOCK TABLES " + table + " WRITE");
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<ClaimReader.Read>> reads = new ArrayList<>();
            for (long u = 1; u <= readers; u++) {
                long user = u;
                reads.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return reader.read(activity, user);
                }, pool));
            }
            go.countDown();
            await(() -> reads.stream().filter(CompletableFuture::isCompletedExceptionally).count() == readers - bound,
                    "the reads beyond the bound refused");
            await(() -> waitingReads(st, table) == bound, "the admitted reads waiting in MySQL");
            assertEquals(bound, waitingReads(st, table));
            assertEquals(readers - bound, reader.refused());
            for (CompletableFuture<ClaimReader.Read> f : reads) {
                if (f.isCompletedExceptionally()) {
                    RpctlException e = (RpctlException) f.handle((r, x) -> x.getCause()).join();
                    assertEquals(ExitCode.UNAVAILABLE, e.exitCode());
                    assertTrue(e.getMessage().contains("claim.read-fallback-concurrency"), e.getMessage());
                }
            }
            st.execute("UNLOCK TABLES");
            long answered = 0;
            for (int i = 0; i < readers; i++) {
                CompletableFuture<ClaimReader.Read> f = reads.get(i);
                if (!f.isCompletedExceptionally()) {
                    ClaimReader.Read r = f.get(30, TimeUnit.SECONDS);
                    assertEquals(ClaimReader.Source.FALLBACK, r.source());
                    assertEquals(Optional.ofNullable(amounts.get(i + 1L)), r.claim().map(ClaimRow::amount));
                    answered++;
                }
            }
            assertEquals(bound, answered);
            assertEquals(bound, reader.fallbacks());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Sessions of other connections waiting for the claim table's lock with a read of it. */
    static long waitingReads(Statement st, String table) {
        try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()"
                + " AND STATE LIKE '%lock%' AND INFO LIKE 'SELECT%FROM " + table + "%'")) {
            rs.next();
            return rs.getLong(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < until, "still waiting for " + what);
            Thread.sleep(20);
        }
    }

    static Process startRedis(int port, Path dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString())
                .redirectOutput(dir.resolve("redis.log").toFile()).redirectErrorStream(true).start();
        for (int i = 0; i < 200; i++) {
            try (Jedis j = new Jedis("127.0.0.1", port)) {
                if ("PONG".equals(j.ping())) {
                    return p;
                }
            } catch (Exception notYet) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("redis-server did not start on " + port);
    }

    static void shutdown(int port, Process redis) throws InterruptedException {
        if (!redis.isAlive()) {
            return;
        }
        try (Jedis j = new Jedis("127.0.0.1", port)) {
            j.shutdown();
        } catch (Exception expected) {
            // the connection drops as the server exits
        }
        redis.waitFor(10, TimeUnit.SECONDS);
    }
}
