package dev.rpctl.bench;

import dev.rpctl.app.App;
import dev.rpctl.Services;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.RawRedis;
import dev.rpctl.claim.ActivityService;
import dev.rpctl.claim.Allocation;
import dev.rpctl.claim.ClaimReader;
import dev.rpctl.claim.ClaimService;
import org.HdrHistogram.Histogram;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The claim-path figures, each beside its baseline measured in the same run, alternating rounds:
 * new claims vs a bare JDBC INSERT IGNORE loop, duplicate claims vs new claims, cached reads vs a
 * bare jedis GET loop. Prints medians over the rounds and their ratios.
 */
public final class ClaimBench {
    interface Op {
        void run(int thread, long i) throws Exception;
    }

    record Run(double perSecond, double p99Ms, double p999Ms) {}

    public static void main(String[] args) throws Exception {
        int concurrency = Integer.parseInt(System.getProperty("bench.concurrency", "32"));
        int seconds = Integer.parseInt(System.getProperty("bench.seconds", "5"));
        int rounds = Integer.parseInt(System.getProperty("bench.rounds", "3"));
        int shards = Integer.parseInt(System.getProperty("bench.shards", "32"));
        // unmeasured rounds first: the claim path is much more code than the bare loops, and on a
        // small machine the JIT compiler would otherwise still be compiling it in the first rounds
        int warmupRounds = Integer.parseInt(System.getProperty("bench.warmup-rounds", "1"));
        // the claims' activity: fixed allocation commits a group in one round trip, random in two
        Allocation allocation = Allocation.parse(System.getProperty("bench.allocation", "fixed"));
        String sweep = System.getProperty("bench.sweep");
        String shardSweep = System.getProperty("bench.shard-sweep");
        if (System.getProperty("bench.group-compare") != null) {
            groupCompare(System.getProperty("bench.group-compare"), Integer.parseInt(System.getProperty("bench.threads", "256")),
                    seconds, rounds, warmupRounds);
            return;
        }
        if (shardSweep != null) {
            shardSweep(shardSweep, Integer.parseInt(System.getProperty("bench.threads", "256")), seconds, rounds,
                    warmupRounds, allocation);
            return;
        }
        if (sweep != null) {
            sweep(sweep, seconds, rounds, warmupRounds, shards, allocation);
            return;
        }
        try (App app = Services.app()) {
            app.schemaService().init();
            ClaimService claims = app.claimService();
            // -Dbench.no-write-through=true adds new claims with no cache side to write through to:
            // what the database part of a claim costs, beside the whole claim
            boolean noWriteThrough = Boolean.getBoolean("bench.no-write-through");
            ClaimService dbOnly = app.claimService(app.writeThrough(List.of()));
            CacheSide a = app.side("a");
            ClaimReader reader = app.claimReader("a");
            AtomicLong nextUser = new AtomicLong(1);
            String table = app.config().mapping().claimTable();
            List<Run> bare = new ArrayList<>(), fresh = new ArrayList<>(), dup = new ArrayList<>();
            List<Run> get = new ArrayList<>(), read = new ArrayList<>(), unwritten = new ArrayList<>();
            List<Run> plain = new ArrayList<>();
            // -Dbench.plain-baseline=false leaves out the bare loop on a copy of the claim table
            // without rpctl's version triggers and update-time index: what the schema costs a write
            boolean plainBaseline = !"false".equals(System.getProperty("bench.plain-baseline"));
            String plainTable = table + "_bench_plain";
            if (plainBaseline) {
                try (Connection c = app.primary().connection(); java.sql.Statement st = c.createStatement()) {
                    st.execute("DROP TABLE IF EXISTS " + plainTable);
                    // LIKE copies the columns and indexes, never the triggers
                    st.execute("CREATE TABLE " + plainTable + " LIKE " + table);
                    st.execute("ALTER TABLE " + plainTable + " DROP KEY idx_updated");
                }
            }
            for (int round = 1 - warmupRounds; round <= rounds; round++) {
                if (round == 1) {
                    bare.clear();
                    fresh.clear();
                    dup.clear();
                    get.clear();
                    read.clear();
                    unwritten.clear();
                    plain.clear();
                }
                System.out.println(round < 1 ? "warm-up round (not counted)" : "round " + round);
                long activity = Services.freshActivityId();
                app.activities().create(new ActivityService.NewActivity(activity, "bench", 50_000_000, 50_000_000_000L,
                        allocation, null, null, shards));
                long bareActivity = Services.freshActivityId();
                bare.add(measure("bare JDBC INSERT IGNORE", concurrency, seconds, bareInsert(app, table, bareActivity, nextUser)));
                if (plainBaseline) {
                    plain.add(measure("bare loop, table w/o rpctl", concurrency, seconds,
                            bareInsert(app, plainTable, bareActivity, nextUser)));
                }
                long firstUser = nextUser.get();
                fresh.add(measure("rpctl new claims", concurrency, seconds, (t, i) -> {
                    long u = nextUser.getAndIncrement();
                    if (claims.claim(activity, u, "c" + u).result() != ClaimService.Result.CLAIMED) {
                        throw new IllegalStateException("not claimed");
                    }
                }));
                long lastUser = nextUser.get() - 1;
                if (noWriteThrough) {
                    unwritten.add(measure("new claims, no sides", concurrency, seconds, (t, i) -> {
                        long u = nextUser.getAndIncrement();
                        if (dbOnly.claim(activity, u, "c" + u).result() != ClaimService.Result.CLAIMED) {
                            throw new IllegalStateException("not claimed");
                        }
                    }));
                }
                dup.add(measure("rpctl duplicate claims", concurrency, seconds, (t, i) -> {
                    long u = firstUser + ThreadLocalRandom.current().nextLong(lastUser - firstUser + 1);
                    if (claims.claim(activity, u, "c" + u).result() != ClaimService.Result.DUPLICATE) {
                        throw new IllegalStateException("not a duplicate");
                    }
                }));
                get.add(measure("bare jedis GET", concurrency, seconds, (t, i) -> {
                    long u = firstUser + ThreadLocalRandom.current().nextLong(lastUser - firstUser + 1);
                    RawRedis.client(a).get(app.protocol().key(activity, u));
                }));
                read.add(measure("rpctl cached reads", concurrency, seconds, (t, i) -> {
                    long u = firstUser + ThreadLocalRandom.current().nextLong(lastUser - firstUser + 1);
                    if (reader.read(activity, u).source() != ClaimReader.Source.CACHE) {
                        throw new IllegalStateException("not a cache hit");
                    }
                }));
            }
            System.out.println();
            System.out.printf("medians over %d rounds after %d warm-up round(s), concurrency %d, %d s each, %d budget shards, %s allocation%n",
                    rounds, warmupRounds, concurrency, seconds, shards, allocation.label());
            report("new claims / bare INSERT IGNORE", fresh, bare, 0.85);
            System.out.printf("  claim p99 %.2f ms vs bare p99 %.2f ms: %+.2f ms (target <= +1 ms)%n",
                    median(fresh, true), median(bare, true), median(fresh, true) - median(bare, true));
            if (plainBaseline) {
                System.out.printf("  bare loop on the claim table / on a copy without its triggers and idx_updated: %,.0f/s vs %,.0f/s = %.2fx%n",
                        median(bare, false), median(plain, false), median(bare, false) / median(plain, false));
                System.out.printf("  new claims / bare loop on that copy: %.2fx%n", median(fresh, false) / median(plain, false));
            }
            if (noWriteThrough) {
                System.out.printf("  new claims with no sides to write through to: %,.0f/s = %.2fx of bare%n",
                        median(unwritten, false), median(unwritten, false) / median(bare, false));
            }
            report("duplicate claims / new claims", dup, fresh, 3.0);
            report("cached reads / bare GET", read, get, 0.8);
        }
    }

    /**
     * The concurrency sweep: at each concurrency, alternating rounds of new claims, the bare
     * autocommit loop, the batched ceiling (the same rows in multi-row INSERTs of the size of the
     * groups rpctl formed in that round, from at most 32 threads), duplicates, bare GETs and cached
     * reads; then one table of medians and ratios.
     */
    static void sweep(String levels, int seconds, int rounds, int warmupRounds, int shards, Allocation allocation)
            throws Exception {
        List<Integer> cs = Arrays.stream(levels.split(",")).map(String::strip).map(Integer::parseInt).toList();
        List<String> table = new ArrayList<>();
        try (App app = Services.app()) {
            app.schemaService().init();
            ClaimService claims = app.claimService();
            ClaimReader reader = app.claimReader("a");
            CacheSide a = app.side("a");
            String table0 = app.config().mapping().claimTable();
            AtomicLong nextUser = new AtomicLong(1);
            for (int c : cs) {
                List<Run> bare = new ArrayList<>(), batched = new ArrayList<>(), fresh = new ArrayList<>(), dup = new ArrayList<>();
                List<Run> get = new ArrayList<>(), read = new ArrayList<>();
                List<Double> groupSizes = new ArrayList<>();
                for (int round = 1 - warmupRounds; round <= rounds; round++) {
                    boolean counted = round >= 1;
                    System.out.println("concurrency " + c + (counted ? ", round " + round : ", warm-up round (not counted)"));
                    long activity = Services.freshActivityId();
                    app.activities().create(new ActivityService.NewActivity(activity, "bench", 50_000_000, 50_000_000_000L,
                            allocation, null, null, shards));
                    long bareActivity = Services.freshActivityId();
                    Run b = measure("bare autocommit INSERT", c, seconds, bareInsert(app, table0, bareActivity, nextUser));
                    long firstUser = nextUser.get();
                    ClaimService.GroupStats before = claims.groupStats();
                    Run f = measure("rpctl new claims", c, seconds, (t, i) -> {
                        long u = nextUser.getAndIncrement();
                        if (claims.claim(activity, u, "c" + u).result() != ClaimService.Result.CLAIMED) {
                            throw new IllegalStateException("not claimed");
                        }
                    });
                    long lastUser = nextUser.get() - 1;
                    int group = Math.max(1, (int) Math.round(claims.groupStats().minus(before).claimsPerGroup()));
                    // the database's batched ceiling: the same rows, group rows a statement, one statement a commit
                    StringBuilder multi = new StringBuilder("INSERT IGNORE INTO " + table0
                            + " (activity_id, user_id, amount, status, request_id, version, created_at, updated_at) VALUES ");
                    for (int k = 0; k < group; k++) {
                        multi.append(k == 0 ? "" : ", ").append("(?, ?, 1000, 'paid', ?, 1, NOW(3), NOW(3))");
                    }
                    String multiSql = multi.toString();
                    // at most 32 threads: more would only queue for the pool's connections (and time out there)
                    Run m = measure("batched ceiling (" + group + " rows)", Math.min(c, 32), seconds, (t, i) -> {
                        try (Connection conn = app.primary().connection(); PreparedStatement ps = conn.prepareStatement(multiSql)) {
                            for (int k = 0; k < group; k++) {
                                long u = nextUser.getAndIncrement();
                                ps.setLong(3 * k + 1, bareActivity);
                                ps.setLong(3 * k + 2, u);
                                ps.setString(3 * k + 3, "b" + u);
                            }
                            ps.executeUpdate();
                        }
                    });
                    // rows a second, not statements
                    m = new Run(m.perSecond() * group, m.p99Ms(), m.p999Ms());
                    Run d = measure("rpctl duplicate claims", c, seconds, (t, i) -> {
                        long u = firstUser + ThreadLocalRandom.current().nextLong(lastUser - firstUser + 1);
                        if (claims.claim(activity, u, "c" + u).result() != ClaimService.Result.DUPLICATE) {
                            throw new IllegalStateException("not a duplicate");
                        }
                    });
                    Run g = measure("bare jedis GET", c, seconds, (t, i) -> {
                        long u = firstUser + ThreadLocalRandom.current().nextLong(lastUser - firstUser + 1);
                        RawRedis.client(a).get(app.protocol().key(activity, u));
                    });
                    Run rd = measure("rpctl cached reads", c, seconds, (t, i) -> {
                        long u = firstUser + ThreadLocalRandom.current().nextLong(lastUser - firstUser + 1);
                        if (reader.read(activity, u).source() != ClaimReader.Source.CACHE) {
                            throw new IllegalStateException("not a cache hit");
                        }
                    });
                    if (counted) {
                        bare.add(b);
                        fresh.add(f);
                        batched.add(m);
                        dup.add(d);
                        get.add(g);
                        read.add(rd);
                        groupSizes.add((double) group);
                    }
                }
                table.add(String.format("| %d | %,.0f | %.1f | %.1f | %,.0f | %,.0f (%.0f rows) | %.2fx | %.2fx | %.2fx |", c,
                        median(fresh, false), median(fresh, true), medianP999(fresh), median(bare, false), median(batched, false),
                        groupSizes.stream().sorted().toList().get(groupSizes.size() / 2), median(fresh, false) / median(batched, false),
                        median(dup, false) / median(fresh, false), median(read, false) / median(get, false)));
            }
        }
        System.out.println();
        System.out.printf("medians over %d rounds after %d warm-up round(s), %d s each, %d budget shards, %s allocation%n",
                rounds, warmupRounds, seconds, shards, allocation.label());
        System.out.println("| clients | new claims/s | p99 ms | p99.9 ms | bare autocommit rows/s | batched ceiling rows/s (group) |"
                + " new / batched | duplicates / new | cached reads / GET |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        table.forEach(System.out::println);
    }

    /**
     * Budget shards vs rate: at one concurrency, new claims into an activity of each shard count,
     * alternating in every round, beside the bare autocommit loop of the same round; with the
     * claims a group and the share of the groups' transaction time that waited for shard locks
     * (as activity show counts it) and the server's InnoDB row lock time over the same share.
     */
    static void shardSweep(String levels, int threads, int seconds, int rounds, int warmupRounds, Allocation allocation)
            throws Exception {
        List<Integer> shardCounts = Arrays.stream(levels.split(",")).map(String::strip).map(Integer::parseInt).toList();
        int n = shardCounts.size();
        List<List<Run>> fresh = new ArrayList<>();
        List<List<Double>> perGroup = new ArrayList<>(), waitShare = new ArrayList<>(), lockShare = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            fresh.add(new ArrayList<>());
            perGroup.add(new ArrayList<>());
            waitShare.add(new ArrayList<>());
            lockShare.add(new ArrayList<>());
        }
        List<Run> bare = new ArrayList<>();
        List<String> rowLockTime = List.of("Innodb_row_lock_time");
        try (App app = Services.app()) {
            app.schemaService().init();
            ClaimService claims = app.claimService();
            String table0 = app.config().mapping().claimTable();
            AtomicLong nextUser = new AtomicLong(1);
            for (int round = 1 - warmupRounds; round <= rounds; round++) {
                boolean counted = round >= 1;
                System.out.println(counted ? "round " + round : "warm-up round (not counted)");
                long bareActivity = Services.freshActivityId();
                Run b = measure("bare autocommit INSERT", threads, seconds, bareInsert(app, table0, bareActivity, nextUser));
                if (counted) {
                    bare.add(b);
                }
                // each round starts at another shard count, so none always runs on the warmest server
                for (int k = 0; k < n; k++) {
                    int i = (k + Math.max(0, round - 1)) % n;
                    int shards = shardCounts.get(i);
                    long activity = Services.freshActivityId();
                    app.activities().create(new ActivityService.NewActivity(activity, "bench", 50_000_000, 50_000_000_000L,
                            allocation, null, null, shards));
                    ClaimService.GroupStats before = claims.groupStats();
                    long lockBefore = app.primary().globalStatus(rowLockTime).getOrDefault(rowLockTime.get(0), 0L);
                    Run f = measure("new claims, " + shards + " shards", threads, seconds, (t, j) -> {
                        long u = nextUser.getAndIncrement();
                        if (claims.claim(activity, u, "c" + u).result() != ClaimService.Result.CLAIMED) {
                            throw new IllegalStateException("not claimed");
                        }
                    });
                    ClaimService.GroupStats g = claims.groupStats().minus(before);
                    long lockMillis = app.primary().globalStatus(rowLockTime).getOrDefault(rowLockTime.get(0), 0L) - lockBefore;
                    System.out.printf("  %.1f claims a group, shard lock wait %.1f%% of the transactions' time, InnoDB row lock time %.1f%%%n",
                            g.claimsPerGroup(), 100 * g.shardWaitShare(), 100 * lockMillis * 1e6 / Math.max(1, g.transactionNanos()));
                    if (counted) {
                        fresh.get(i).add(f);
                        perGroup.get(i).add(g.claimsPerGroup());
                        waitShare.get(i).add(g.shardWaitShare());
                        lockShare.get(i).add(Math.min(1, lockMillis * 1e6 / Math.max(1, g.transactionNanos())));
                    }
                }
            }
        }
        System.out.println();
        System.out.printf("medians over %d rounds after %d warm-up round(s), %d clients, %d s each, %s allocation;"
                + " bare autocommit INSERT loop at %d clients in the same rounds: %,.0f rows/s%n",
                rounds, warmupRounds, threads, seconds, allocation.label(), threads, median(bare, false));
        // the rate beside the last shard count's in the same round: what the table's rates, which move with the
        // machine's load from round to round, are best read by
        int top = n - 1;
        System.out.println("| shards | new claims/s | p99 ms | p99.9 ms | claims a group | shard lock wait, of tx time |"
                + " InnoDB row lock time, of tx time | rate / " + shardCounts.get(top) + " shards' in the same round | new / bare loop |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        for (int i = 0; i < n; i++) {
            List<Double> ratios = new ArrayList<>();
            for (int r = 0; r < fresh.get(i).size(); r++) {
                ratios.add(fresh.get(i).get(r).perSecond() / fresh.get(top).get(r).perSecond());
            }
            System.out.printf("| %d | %,.0f | %.1f | %.1f | %.1f | %.0f%% | %.0f%% | %.2fx (%s) | %.2fx |%n", shardCounts.get(i),
                    median(fresh.get(i), false), median(fresh.get(i), true), medianP999(fresh.get(i)),
                    medianOf(perGroup.get(i)), 100 * medianOf(waitShare.get(i)), 100 * medianOf(lockShare.get(i)),
                    medianOf(ratios), String.join(", ", ratios.stream().map(x -> String.format("%.2f", x)).toList()),
                    median(fresh.get(i), false) / median(bare, false));
        }
    }

    /**
     * Claim services of different claim.max-group and claim.committers side by side (g64c2: groups of
     * up to 64, 2 committers), new claims at one concurrency, alternating in every round (each round
     * starts with the next one); every round's rate and p99, and the medians.
     */
    static void groupCompare(String spec, int threads, int seconds, int rounds, int warmupRounds) throws Exception {
        String[] variants = spec.split(",");
        java.util.Map<String, List<Run>> runs = new java.util.LinkedHashMap<>();
        java.util.Map<String, List<Double>> groups = new java.util.LinkedHashMap<>();
        List<App> apps = new ArrayList<>();
        List<ClaimService> services = new ArrayList<>();
        for (String v : variants) {
            String[] gc = v.substring(1).split("c");
            java.util.Map<String, String> env = new java.util.HashMap<>(Services.env());
            env.put("RPCTL_CLAIM_MAX_GROUP", gc[0]);
            env.put("RPCTL_CLAIM_COMMITTERS", gc[1]);
            App app = new App(new dev.rpctl.config.ConfigLoader(env, java.nio.file.Path.of("").toAbsolutePath()).load(null, java.util.Map.of()));
            apps.add(app);
            services.add(app.claimService());
            runs.put(v, new ArrayList<>());
            groups.put(v, new ArrayList<>());
        }
        AtomicLong nextUser = new AtomicLong(1);
        for (int round = 1 - warmupRounds; round <= rounds; round++) {
            for (int k = 0; k < variants.length; k++) {
                int i = (k + Math.max(0, round - 1)) % variants.length;
                ClaimService claims = services.get(i);
                long activity = Services.freshActivityId();
                apps.get(i).activities().create(new ActivityService.NewActivity(activity, "bench", 50_000_000, 50_000_000_000L,
                        Allocation.FIXED, null, null, 64));
                ClaimService.GroupStats before = claims.groupStats();
                Run f = measure("new claims " + variants[i], threads, seconds, (t, j) -> {
                    long u = nextUser.getAndIncrement();
                    if (claims.claim(activity, u, "c" + u).result() != ClaimService.Result.CLAIMED) {
                        throw new IllegalStateException("not claimed");
                    }
                });
                ClaimService.GroupStats g = claims.groupStats().minus(before);
                System.out.printf("  %.1f claims a group, %.2f ms a group's transaction%n", g.claimsPerGroup(), g.transactionNanos() / 1e6 / g.groups());
                if (round >= 1) {
                    runs.get(variants[i]).add(f);
                    groups.get(variants[i]).add(g.claimsPerGroup());
                }
            }
        }
        System.out.printf("%n%d clients, %d s each, %d rounds after %d warm-up round(s), 64 budget shards, fixed allocation%n",
                threads, seconds, rounds, warmupRounds);
        for (String v : variants) {
            List<Run> r = runs.get(v);
            System.out.printf("%s: %s claims/s, p99 %s ms; median %,.0f/s, p99 %.1f ms, %.1f claims a group%n", v,
                    r.stream().map(x -> String.format("%,.0f", x.perSecond())).toList(),
                    r.stream().map(x -> String.format("%.1f", x.p99Ms())).toList(), median(r, false), median(r, true),
                    medianOf(groups.get(v)));
        }
        apps.forEach(App::close);
    }

    static double medianOf(List<Double> v) {
        return v.stream().sorted().toList().get(v.size() / 2);
    }

    static double medianP999(List<Run> runs) {
        double[] v = runs.stream().mapToDouble(Run::p999Ms).sorted().toArray();
        return v[v.length / 2];
    }

    static void report(String name, List<Run> x, List<Run> base, double target) {
        double r = median(x, false) / median(base, false);
        System.out.printf("  %-34s %,10.0f/s vs %,10.0f/s = %.2fx (target >= %.2fx) %s%n", name,
                median(x, false), median(base, false), r, target, r >= target ? "met" : "NOT met");
    }

    static double median(List<Run> runs, boolean p99) {
        double[] v = runs.stream().mapToDouble(r -> p99 ? r.p99Ms() : r.perSecond()).sorted().toArray();
        return v[v.length / 2];
    }

    /** The bare autocommit loop: a new user's row a call, one INSERT IGNORE on a connection of the pool. */
    private static Op bareInsert(App app, String table, long activity, AtomicLong nextUser) {
        String sql = "INSERT IGNORE INTO " + table
                + " (activity_id, user_id, amount, status, request_id, version, created_at, updated_at)"
                + " VALUES (?, ?, 1000, 'paid', ?, 1, NOW(3), NOW(3))";
        return (t, i) -> {
            long u = nextUser.getAndIncrement();
            try (Connection conn = app.primary().connection(); PreparedStatement ps = conn.prepareStatement(sql)) {
                ps.setLong(1, activity);
                ps.setLong(2, u);
                ps.setString(3, "b" + u);
                ps.executeUpdate();
            }
        };
    }

    /** One second of warm-up with the same work, then the measured window; only ops started in it count. */
    static Run measure(String name, int threads, int seconds, Op op) throws InterruptedException {
        Histogram[] hs = new Histogram[threads];
        long[] counts = new long[threads];
        AtomicLong errors = new AtomicLong();
        long from = System.nanoTime() + 1_000_000_000L;
        long to = from + seconds * 1_000_000_000L;
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int ti = t;
            hs[t] = new Histogram(60_000_000_000L, 3);
            Thread th = new Thread(() -> {
                long i = 0;
                for (long s = System.nanoTime(); s < to; s = System.nanoTime()) {
                    try {
                        op.run(ti, i++);
                        if (s >= from) {
                            hs[ti].recordValue(System.nanoTime() - s);
                            counts[ti]++;
                        }
                    } catch (Exception e) {
                        if (errors.incrementAndGet() == 1) {
                            e.printStackTrace();
                        }
                    }
                }
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            th.join();
        }
        Histogram all = new Histogram(60_000_000_000L, 3);
        for (Histogram h : hs) {
            all.add(h);
        }
        long n = Arrays.stream(counts).sum();
        Run r = new Run(n / (double) seconds, all.getValueAtPercentile(99) / 1e6, all.getValueAtPercentile(99.9) / 1e6);
        System.out.printf("%-26s %,10.0f/s  p50 %.2f ms  p99 %.2f ms  errors %d%n", name, r.perSecond(),
                all.getValueAtPercentile(50) / 1e6, r.p99Ms(), errors.get());
        return r;
    }
}
