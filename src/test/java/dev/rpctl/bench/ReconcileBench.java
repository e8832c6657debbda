package dev.rpctl.bench;

import dev.rpctl.app.App;
import dev.rpctl.Services;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.RawRedis;
import dev.rpctl.claim.ActivityService;
import dev.rpctl.claim.Allocation;
import dev.rpctl.claim.ClaimService;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import dev.rpctl.reconcile.ReconcileReport;
import dev.rpctl.reconcile.ReconcileService;
import dev.rpctl.reconcile.Scope;
import dev.rpctl.warm.WarmService;
import redis.clients.jedis.PipelineBase;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * reconcile and warm against their floors, measured in the same run, alternating rounds:
 * reconcile of N claims on both sides vs a bare JDBC keyset scan of the same rows plus a pipelined
 * MGET of the same keys on both sides; claim p99 with a reconcile running at half its rate vs
 * without; warm of W users into both sides vs plain pipelined SETs of as many keys.
 */
public final class ReconcileBench {
    public static void main(String[] args) throws Exception {
        int rows = Integer.parseInt(System.getProperty("bench.rows", "1000000"));
        int warmUsers = Integer.parseInt(System.getProperty("bench.warm-users", "200000"));
        int rounds = Integer.parseInt(System.getProperty("bench.rounds", "3"));
        int chunk = Integer.parseInt(System.getProperty("bench.chunk", "1000"));
        int claimSeconds = Integer.parseInt(System.getProperty("bench.claim-seconds", "8"));
        // an unmeasured round first, for the JIT compiler
        int warmupRounds = Integer.parseInt(System.getProperty("bench.warmup-rounds", "1"));
        // users a query and a round trip of warm (its --batch)
        int warmBatch = Integer.parseInt(System.getProperty("bench.warm-batch", "2000"));
        try (App app = Services.app()) {
            app.schemaService().init();
            long activity = Services.freshActivityId();
            String table = app.config().mapping().claimTable();
            System.out.printf("loading %,d claims of activity %d and their entries on both sides%n", rows, activity);
            load(app, activity, table, rows);
            List<Double> bare = new ArrayList<>(), rec = new ArrayList<>(), sets = new ArrayList<>(), warm = new ArrayList<>();
            for (int round = 1 - warmupRounds; round <= rounds; round++) {
                if (round == 1) {
                    bare.clear();
                    rec.clear();
                    sets.clear();
                    warm.clear();
                }
                System.out.println(round < 1 ? "warm-up round (not counted)" : "round " + round);
                bare.add(timed("bare keyset scan + MGET on both sides", rows,
                        () -> bareScan(app, activity, table, chunk, 0, new java.util.concurrent.atomic.AtomicBoolean())));
                rec.add(timed("reconcile (all consistent)", rows, () -> {
                    ReconcileReport r = app.reconcileService("all").run(new ReconcileService.Request(
                            new Scope(activity, null, null, null, List.of("a", "b")), false,
                            ReconcileService.RepairMode.REWRITE, 0, chunk, false), (c, s, w) -> { });
                    if (!r.consistent() || r.keysChecked() != rows) {
                        throw new IllegalStateException("reconcile found differences: " + r);
                    }
                }));
                long warmActivity = Services.freshActivityId();
                long[] users = new long[warmUsers];
                for (int i = 0; i < warmUsers; i++) {
                    users[i] = i + 1;
                }
                sets.add(timed("plain pipelined SETs to both sides", warmUsers, () -> plainSets(app, warmActivity, warmUsers)));
                long other = Services.freshActivityId();
                warm.add(timed("warm into both sides", warmUsers, () -> {
                    WarmService.Report r = app.warmService("all").warm(other, users, warmBatch, 0, (u, s) -> { });
                    if (r.users() != warmUsers) {
                        throw new IllegalStateException(r.toString());
                    }
                }));
            }
            double recRate = median(rec);
            System.out.printf("%nreconcile / bare scan+MGET: %,.0f/s vs %,.0f/s = %.2fx (target >= 0.5x)%n",
                    recRate, median(bare), recRate / median(bare));
            System.out.printf("warm / plain SETs: %,.0f/s vs %,.0f/s = %.2fx (target >= 0.5x)%n",
                    median(warm), median(sets), median(warm) / median(sets));

            bloomReads(app, rounds, claimSeconds);

            // claim p99 alone, then with a reconcile at half its measured rate, alternating
            long claimActivity = Services.freshActivityId();
            app.activities().create(new ActivityService.NewActivity(claimActivity, "bench", 50_000_000, 50_000_000_000L,
                    Allocation.FIXED, null, null, 64));
            ClaimService claims = app.claimService();
            AtomicLong nextUser = new AtomicLong(1);
            List<ClaimBench.Run> alone = new ArrayList<>(), beside = new ArrayList<>(), besideBare = new ArrayList<>();
            ClaimBench.measure("claims (warm-up)", 32, 3, (t, i) -> claims.claim(claimActivity, nextUser.getAndIncrement(), null));
            for (int round = 1; round <= rounds; round++) {
                alone.add(ClaimBench.measure("claims alone", 32, claimSeconds,
                        (t, i) -> claims.claim(claimActivity, nextUser.getAndIncrement(), null)));
                ReconcileService running = app.reconcileService("all");
                Thread reconcile = new Thread(() -> running.run(new ReconcileService.Request(
                        new Scope(activity, null, null, null, List.of("a", "b")), false,
                        ReconcileService.RepairMode.REWRITE, recRate / 2, chunk, false), (c, s, w) -> { }));
                reconcile.start();
                beside.add(ClaimBench.measure("claims beside reconcile", 32, claimSeconds,
                        (t, i) -> claims.claim(claimActivity, nextUser.getAndIncrement(), null)));
                running.stop();
                reconcile.join();
                // the floor: the same rate of bare keyset reads and MGETs, nothing compared or written
                java.util.concurrent.atomic.AtomicBoolean stopBare = new java.util.concurrent.atomic.AtomicBoolean();
                Thread bareReads = new Thread(() -> {
                    try {
                        bareScan(app, activity, table, chunk, recRate / 2, stopBare);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                bareReads.start();
                besideBare.add(ClaimBench.measure("claims beside bare reads", 32, claimSeconds,
                        (t, i) -> claims.claim(claimActivity, nextUser.getAndIncrement(), null)));
                stopBare.set(true);
                bareReads.join();
            }
            double p99Alone = ClaimBench.median(alone, true);
            double p99Beside = ClaimBench.median(beside, true);
            double p99Bare = ClaimBench.median(besideBare, true);
            System.out.printf("claim p99 beside a reconcile at %,.0f keys/s: %.2f ms vs %.2f ms alone = %+.1f%% (target <= +10%%)%n",
                    recRate / 2, p99Beside, p99Alone, (p99Beside / p99Alone - 1) * 100);
            System.out.printf("claim p99 beside bare keyset reads and MGETs at the same rate (the floor): %.2f ms = %+.1f%% of alone;"
                    + " reconcile / floor: %.2fx%n", p99Bare, (p99Bare / p99Alone - 1) * 100, p99Beside / p99Bare);
        }
    }

    /**
     * Reads of users who never claimed, with the activity's Bloom filter built: each of them once
     * (primary reads per 1,000 against the configured false-positive rate), then at random for a
     * while (read rate against a bare jedis GET loop of the same keys).
     */
    private static void bloomReads(App app, int rounds, int seconds) throws Exception {
        int claimers = Integer.parseInt(System.getProperty("bench.bloom-claimers", "100000"));
        int strangers = Integer.parseInt(System.getProperty("bench.bloom-strangers", "100000"));
        long activity = Services.freshActivityId();
        app.activities().create(new ActivityService.NewActivity(activity, "bench", claimers, claimers * 100L,
                Allocation.FIXED, null, null, 8));
        try (Connection c = app.primary().connection(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO " + app.config().mapping().claimTable() + " (activity_id, user_id, amount, request_id, version)"
                    + " SELECT " + activity + ", seq, 100, 'r', 1 FROM seq_1_to_" + claimers);
        }
        app.warmService("all").buildBloom(activity, claimers, (n, s) -> { });
        dev.rpctl.claim.ClaimReader reader = app.claimReader("a");
        long first = 10_000_000L;
        long t0 = System.nanoTime();
        long primary = 0;
        for (long u = first; u < first + strangers; u++) {
            if (reader.read(activity, u).source() != dev.rpctl.claim.ClaimReader.Source.CACHE) {
                primary++;
            }
        }
        double firstRate = strangers / ((System.nanoTime() - t0) / 1e9);
        System.out.printf("%nfirst reads of %,d users who never claimed: %,.0f/s, %.1f primary reads per 1,000 (target <= %.1f)%n",
                strangers, firstRate, primary * 1000.0 / strangers, app.config().bloomFalsePositiveRate() * 1000);
        CacheSide a = app.side("a");
        redis.clients.jedis.UnifiedJedis jedis = dev.rpctl.cache.RawRedis.client(a);
        List<ClaimBench.Run> bare = new ArrayList<>(), read = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            bare.add(ClaimBench.measure("bare GET of the same keys", 32, seconds, (t, i) ->
                    jedis.get(app.protocol().key(activity, first + java.util.concurrent.ThreadLocalRandom.current().nextInt(strangers)))));
            read.add(ClaimBench.measure("reads of non-claimers", 32, seconds, (t, i) ->
                    reader.read(activity, first + java.util.concurrent.ThreadLocalRandom.current().nextInt(strangers))));
        }
        System.out.printf("reads of non-claimers / bare GET: %,.0f/s vs %,.0f/s = %.2fx (target >= 0.8x)%n",
                ClaimBench.median(read, false), ClaimBench.median(bare, false),
                ClaimBench.median(read, false) / ClaimBench.median(bare, false));
    }

    interface Work {
        void run() throws Exception;
    }

    static double timed(String name, int n, Work w) throws Exception {
        long t0 = System.nanoTime();
        w.run();
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("  %-40s %,10.0f/s (%.1f s)%n", name, n / s, s);
        return n / s;
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a[a.length / 2];
    }

    private static void load(App app, long activity, String table, int rows) throws Exception {
        try (Connection c = app.primary().connection(); Statement st = c.createStatement()) {
            for (int from = 0; from < rows; from += 100_000) {
                int to = Math.min(rows, from + 100_000);
                st.execute("INSERT INTO " + table + " (activity_id, user_id, amount, request_id, version) SELECT "
                        + activity + ", seq, 100, CONCAT('req-', seq), 1 FROM seq_" + (from + 1) + "_to_" + to);
            }
        }
        CacheProtocol protocol = app.protocol();
        for (int from = 1; from <= rows; from += 10_000) {
            List<CacheProtocol.Write> writes = new ArrayList<>();
            for (ClaimRow r : app.claims().findRange(activity, from, from + 9_999)) {
                writes.add(new CacheProtocol.Write(protocol.key(activity, r.userId()), Entry.row(r)));
            }
            for (CacheSide s : app.sides().values()) {
                protocol.putAll(s, writes);
            }
        }
    }

    /** The floor: the same rows read by keyset, the same keys read from both sides, nothing compared. */
    private static void bareScan(App app, long activity, String table, int chunk, double rate,
                                 java.util.concurrent.atomic.AtomicBoolean stop) throws Exception {
        CacheProtocol protocol = app.protocol();
        long after = 0;
        long seen = 0;
        long started = System.nanoTime();
        try (Connection c = app.primary().connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT user_id, amount, status, request_id, version, updated_at FROM " + table
                        + " WHERE activity_id = ? AND user_id > ? ORDER BY user_id LIMIT " + chunk)) {
            while (true) {
                ps.setLong(1, activity);
                ps.setLong(2, after);
                List<String> keys = new ArrayList<>(chunk);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        after = rs.getLong(1);
                        keys.add(protocol.key(activity, after));
                    }
                }
                if (keys.isEmpty()) {
                    break;
                }
                for (CacheSide s : app.sides().values()) {
                    seen += s.getAll(keys).size();
                }
                if (stop.get()) {
                    break;
                }
                if (rate > 0) {
                    long wait = started + (long) (seen / 2 / rate * 1e9) - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
            }
        }
        if (seen == 0) {
            throw new IllegalStateException("nothing scanned");
        }
    }

    private static void plainSets(App app, long activity, int n) {
        CacheProtocol protocol = app.protocol();
        for (CacheSide s : app.sides().values()) {
            for (int from = 1; from <= n; from += 500) {
                int start = from;
                RawRedis.call(s, j -> {
                    try (PipelineBase p = j.pipelined()) {
                        for (int u = start; u < start + 500 && u <= n; u++) {
                            p.psetex(protocol.key(activity, u), 60_000, "P|0");
                        }
                        p.sync();
                    }
                    return null;
                });
            }
        }
    }
}
