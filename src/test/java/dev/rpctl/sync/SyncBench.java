package dev.rpctl.sync;

import com.github.shyiko.mysql.binlog.BinaryLogClient;
import com.github.shyiko.mysql.binlog.event.EventHeaderV4;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import dev.rpctl.app.App;
import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.binlog.RowChange;
import dev.rpctl.binlog.Values;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.RawRedis;
import dev.rpctl.kafka.KafkaClients;
import org.HdrHistogram.Histogram;
import redis.clients.jedis.PipelineBase;
import redis.clients.jedis.params.SetParams;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Figures for the sync pipeline, against the local services:
 * {@code lag RATE SECONDS}: claim rows committed at a steady rate by plain SQL from
 * {@code -Dbench.writers} connections (default 8), {@code -Dbench.rows-per-tx} rows a transaction
 * (default 8, the shape of the claim service's group commits); for every row, the time from its
 * commit returning to the moment the pipeline of the second side has applied it (p50/p99/p99.9),
 * and each side's heartbeat lag. The first {@code -Dbench.warmup} seconds (default 3) are not
 * counted. The default rate, 6,800 rows/s, is half the new-claim peak measured by {@code bench/claims}.
 * {@code catchup ROWS [PER_TX]}: a backlog applied by both pipelines vs a bare BinaryLogClient
 * tail with a no-op handler over the same binlog range.
 * {@code kafka-lag RATE SECONDS}: as {@code lag}, through Kafka (the publisher and one applier a
 * side), beside the direct pipelines' {@code lag} in the same run, with each row's time at every
 * stage of the way; {@code -Dbench.rounds=N} alternates the two N times and prints the medians.
 * {@code kafka-catchup ROWS [PER_TX]}: in one run, the direct pipelines' catch-up, plain pipelined
 * SETs of as many keys, the publisher's backlog into the topic, and the topic applied to both sides
 * by one and then by two appliers a side ({@code -Dbench.partitions}, default 12).
 */
public final class SyncBench {
    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "lag";
        boolean kafka = mode.startsWith("kafka-");
        if (mode.endsWith("lag")) {
            int rate = args.length > 1 ? Integer.parseInt(args[1]) : 6800;
            int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
            if (kafka) {
                kafkaLag(rate, seconds);
            } else {
                try (SyncFixture f = fixture(false)) {
                    lag(f, rate, seconds, false);
                }
            }
            return;
        }
        try (SyncFixture f = fixture(kafka)) {
            int rows = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
            int perTx = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
            if (kafka) {
                kafkaCatchup(f, rows, perTx);
            } else {
                catchup(f, rows, perTx);
            }
        }
    }

    /** A fixture of its own (table, activity, pipelines, topic) for one measured pass. */
    private static SyncFixture fixture(boolean kafka) throws Exception {
        SyncFixture f = new SyncFixture();
        // the bench writes millions of entries: let the sides forget them soon after
        f.env.put("RPCTL_MAPPING_ENTRY_TTL", "5m");
        if (kafka) {
            KafkaPipelineIT.useKafka(f, Integer.getInteger("bench.partitions", 12));
        }
        return f;
    }

    /**
     * {@code -Dbench.rounds} rounds (default 1) of the direct pipelines' lag and then the lag
     * through Kafka, each pass on a table and topic of its own, at the same rate; then the medians
     * of both over the rounds, side by side. The machine's noise moves both alike.
     */
    private static void kafkaLag(int rate, int seconds) throws Exception {
        int rounds = Integer.getInteger("bench.rounds", 1);
        List<double[]> direct = new ArrayList<>();
        List<double[]> through = new ArrayList<>();
        List<double[]> bare = new ArrayList<>();
        for (int r = 1; r <= rounds; r++) {
            System.out.printf("%n== round %d of %d: direct pipelines%n", r, rounds);
            try (SyncFixture f = fixture(false)) {
                direct.add(lag(f, rate, seconds, false));
            }
            System.out.printf("%n== round %d of %d: through Kafka%n", r, rounds);
            try (SyncFixture f = fixture(true)) {
                through.add(lag(f, rate, seconds, true));
            }
            System.out.printf("%n== round %d of %d: the broker alone%n", r, rounds);
            try (SyncFixture f = fixture(true)) {
                bare.add(bareKafka(f, rate, seconds));
            }
        }
        double[] d = medians(direct);
        double[] k = medians(through);
        double[] b = medians(bare);
        System.out.printf(Locale.ROOT, "%ncommit -> both sides at %d rows/s, medians of %d round(s):%n", rate, rounds);
        System.out.printf(Locale.ROOT, "%-22s %9s %9s %9s%n", "PATH", "P50 MS", "P99 MS", "P99.9 MS");
        System.out.printf(Locale.ROOT, "%-22s %9.2f %9.2f %9.2f%n", "direct pipelines", d[0], d[1], d[2]);
        System.out.printf(Locale.ROOT, "%-22s %9.2f %9.2f %9.2f%n", "through Kafka", k[0], k[1], k[2]);
        System.out.printf(Locale.ROOT, "%-22s %8.1fx %8.1fx %8.1fx%n", "Kafka / direct", k[0] / d[0], k[1] / d[1], k[2] / d[2]);
        System.out.printf(Locale.ROOT, "%-22s %9.2f %9.2f %9.2f%n", "the broker alone", b[0], b[1], b[2]);
        System.out.printf(Locale.ROOT, "%-22s %8.1fx %8.1fx %8.1fx%n", "Kafka / broker alone", k[0] / b[0], k[1] / b[1],
                k[2] / b[2]);
    }

    /**
     * The floor under the lag through Kafka: no binlog, no rpctl. A producer with the publisher's
     * settings sends, at the same rate, messages of a publisher message's size (keyed by user, to a
     * topic of the same partitions) and two consumer groups with the appliers' settings read them,
     * one for each side; each message's time from its send to its poll by the second group. The
     * same warm-up and length as the lag passes.
     */
    private static double[] bareKafka(SyncFixture f, int rate, int seconds) throws Exception {
        int warmup = Integer.getInteger("bench.warmup", 3);
        KafkaClients clients = KafkaPipelineIT.clients(f);
        String topic = clients.settings().topic();
        clients.ensureTopic(topic);
        int total = rate * (seconds + warmup);
        long[] sentAt = new long[total];
        AtomicLongArray polledAt = new AtomicLongArray(total);
        AtomicInteger[] seen = {new AtomicInteger(), new AtomicInteger()};
        byte[] payload = new byte[450];
        java.util.Arrays.fill(payload, (byte) 'x');
        List<Thread> readers = new ArrayList<>();
        CountDownLatch ready = new CountDownLatch(2);
        for (String side : List.of("a", "b")) {
            int k = side.equals("a") ? 0 : 1;
            Thread t = new Thread(() -> {
                try (org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]> consumer =
                             clients.consumer(clients.settings().groupPrefix() + "-bare-" + side, "bare-" + side)) {
                    consumer.subscribe(List.of(topic));
                    while (consumer.assignment().isEmpty()) {
                        consumer.poll(java.time.Duration.ofMillis(100));
                    }
                    ready.countDown();
                    while (seen[k].get() < total) {
                        for (org.apache.kafka.clients.consumer.ConsumerRecord<String, byte[]> rec
                                : consumer.poll(java.time.Duration.ofMillis(100))) {
                            int i = Integer.parseInt(rec.key().substring(rec.key().indexOf(':') + 1));
                            long now = micros();
                            // the later of the two groups' polls: a change is on both sides when both read it
                            polledAt.accumulateAndGet(i, now, Math::max);
                            seen[k].incrementAndGet();
                        }
                    }
                }
            }, "bare-" + side);
            t.start();
            readers.add(t);
        }
        ready.await();
        try (org.apache.kafka.clients.producer.KafkaProducer<String, byte[]> producer = clients.producer("bare-producer")) {
            long start = System.nanoTime();
            for (int i = 0; i < total; i++) {
                long due = start + (long) i * 1_000_000_000L / rate;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                sentAt[i] = micros();
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic,
                        ThreadLocalRandom.current().nextInt(1_000_000) + ":" + i, payload));
            }
            producer.flush();
        }
        for (Thread t : readers) {
            t.join(TimeUnit.MINUTES.toMillis(5));
        }
        Histogram both = new Histogram(3_600_000_000L, 3);
        for (int i = rate * warmup; i < total; i++) {
            long at = polledAt.get(i);
            if (at > 0) {
                both.recordValue(Math.max(0, at - sentAt[i]));
            }
        }
        print("send -> both groups", both);
        return new double[] {both.getValueAtPercentile(50) / 1000.0, both.getValueAtPercentile(99) / 1000.0,
                both.getValueAtPercentile(99.9) / 1000.0};
    }

    private static double[] medians(List<double[]> runs) {
        double[] out = new double[3];
        for (int k = 0; k < out.length; k++) {
            int col = k;
            double[] v = runs.stream().mapToDouble(x -> x[col]).sorted().toArray();
            out[k] = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        }
        return out;
    }

    /** One lag pass; returns commit -> both sides p50, p99 and p99.9 in milliseconds. */
    private static double[] lag(SyncFixture f, int rate, int seconds, boolean kafka) throws Exception {
        int warmup = Integer.getInteger("bench.warmup", 3);
        int writers = Integer.getInteger("bench.writers", 8);
        int perTx = Integer.getInteger("bench.rows-per-tx", 8);
        int total = rate * (seconds + warmup) / perTx * perTx;
        int first = rate * warmup;
        Map<String, Integer> index = new HashMap<>(total * 2);
        for (int i = 0; i < total; i++) {
            index.put(f.key(f.activity, i + 1), i);
        }
        long[] called = new long[total];
        long[] returned = new long[total];
        AtomicLongArray[] applied = {new AtomicLongArray(total), new AtomicLongArray(total)};
        AtomicInteger[] seen = {new AtomicInteger(), new AtomicInteger()};
        // through Kafka: the publisher from now, and one applier a side whose lanes are observed
        SyncService publisher = kafka ? KafkaPipelineIT.publisher(f, true) : null;
        SyncService daemon = kafka ? KafkaPipelineIT.applier(f, "all") : f.service("all", true);
        // through Kafka, each row's time at every stage: read from the binlog, acknowledged by the broker, polled by each side
        AtomicLongArray read = new AtomicLongArray(total);
        AtomicLongArray acked = new AtomicLongArray(total);
        AtomicLongArray[] polled = {new AtomicLongArray(total), new AtomicLongArray(total)};
        if (publisher != null) {
            // user u is row u - 1 of this run; each hook costs a parse and an array write
            publisher.beforeRow((pipeline, c) -> {
                Object[] row = c.after() != null ? c.after() : c.before();
                Long user = Values.asLong(RowChange.value(row, RowChange.indexOf(c.columns(), "user_id")));
                if (user != null && user >= 1 && user <= total) {
                    read.compareAndSet((int) (user - 1), 0, micros());
                }
            });
            publisher.onAcknowledged(key -> {
                long user = userOfMessageKey(key);
                if (user >= 1 && user <= total) {
                    acked.compareAndSet((int) (user - 1), 0, micros());
                }
            });
            List<String> groups = daemon.metrics().stream().map(SyncMetrics::pipeline).toList();
            daemon.beforeRecord((group, r) -> {
                long user = userOfMessageKey(r.key());
                if (user >= 1 && user <= total) {
                    polled[groups.indexOf(group)].compareAndSet((int) (user - 1), 0, micros());
                }
            });
            publisher.start();
            SyncFixture.awaitLeading(publisher);
        }
        List<SyncMetrics> sides = daemon.metrics();
        for (int s = 0; s < sides.size(); s++) {
            int side = s;
            sides.get(s).observe((key, micros) -> {
                Integer i = index.get(key);
                if (i != null && applied[side].compareAndSet(i, 0, micros)) {
                    seen[side].incrementAndGet();
                }
            });
        }
        daemon.start();
        CpuUse cpu = new CpuUse();
        while (!sides.stream().allMatch(m -> m.appliedBeatMillis() > 0)) {
            Thread.sleep(50);
        }
        if (Boolean.getBoolean("bench.no-triggers")) {
            // what the claim table's version triggers cost the writers' commits and the lag
            f.sql("DROP TRIGGER " + f.table + "_version_bi", "DROP TRIGGER " + f.table + "_version_ai", "DROP TRIGGER " + f.table + "_version_bu",
                    "DROP TRIGGER " + f.table + "_version_ad");
            System.out.println("the claim table's version triggers dropped (-Dbench.no-triggers=true)");
        }
        StringBuilder sql = new StringBuilder("INSERT INTO " + f.table + " (activity_id, user_id, amount, request_id, version) VALUES ");
        for (int r = 0; r < perTx; r++) {
            sql.append(r == 0 ? "" : ", ").append("(?, ?, 100, 'bench', 1)");
        }
        AtomicInteger next = new AtomicInteger();
        AtomicInteger deadlocks = new AtomicInteger();
        List<Throwable> writerFailures = Collections.synchronizedList(new ArrayList<>());
        long start = System.nanoTime();
        // heartbeats applied before the counted rows (start-up, warm-up) are left out of the figures
        Histogram[] beatsBefore = new Histogram[sides.size()];
        Thread mark = new Thread(() -> {
            try {
                TimeUnit.NANOSECONDS.sleep(start + TimeUnit.SECONDS.toNanos(warmup) - System.nanoTime());
            } catch (InterruptedException e) {
                return;
            }
            for (int s = 0; s < sides.size(); s++) {
                beatsBefore[s] = sides.get(s).heartbeatLag();
            }
        });
        mark.start();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            Thread t = new Thread(() -> {
                try (Connection c = f.connect(); PreparedStatement ps = c.prepareStatement(sql.toString())) {
                    // as the claim service's pool: no gap locks, so inserts of neighbouring users seldom deadlock
                    c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                    int from;
                    while ((from = next.getAndAdd(perTx)) < total) {
                        long due = start + from * 1_000_000_000L / rate;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                        for (int r = 0; r < perTx; r++) {
                            ps.setLong(2 * r + 1, f.activity);
                            ps.setLong(2 * r + 2, from + r + 1);
                        }
                        long before = micros();
                        insertRetryingVictims(ps, deadlocks);
                        long after = micros();
                        for (int r = 0; r < perTx; r++) {
                            called[from + r] = before;
                            returned[from + r] = after;
                        }
                    }
                } catch (Exception e) {
                    writerFailures.add(e);
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        double secs = (System.nanoTime() - start) / 1e9;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until && (seen[0].get() < total || seen[1].get() < total)) {
            Thread.sleep(20);
        }
        Histogram both = new Histogram(3_600_000_000L, 3);
        Histogram fromCall = new Histogram(3_600_000_000L, 3);
        Histogram[] each = {new Histogram(3_600_000_000L, 3), new Histogram(3_600_000_000L, 3)};
        Histogram commit = new Histogram(3_600_000_000L, 3);
        long late = 0;
        for (int i = first; i < total; i++) {
            long a = applied[0].get(i);
            long b = applied[1].get(i);
            if (a == 0 || b == 0) {
                late++;
                continue;
            }
            each[0].recordValue(Math.max(0, a - returned[i]));
            each[1].recordValue(Math.max(0, b - returned[i]));
            both.recordValue(Math.max(0, Math.max(a, b) - returned[i]));
            fromCall.recordValue(Math.max(0, Math.max(a, b) - called[i]));
            commit.recordValue(returned[i] - called[i]);
        }
        System.out.printf("steady writes: %d rows at %d/s target (%.0f/s achieved), %d writers, %d rows a transaction,"
                + " %d counted after %d s warm-up%n", total, rate, total / secs, writers, perTx, total - first, warmup);
        print("commit -> both sides", both);
        print("commit -> side " + sides.get(0).side(), each[0]);
        print("commit -> side " + sides.get(1).side(), each[1]);
        print("call -> both sides", fromCall);
        print("commit call", commit);
        if (kafka) {
            // where the time goes through Kafka, stage by stage, for the counted rows of side a
            Histogram[] stages = new Histogram[4];
            for (int k = 0; k < stages.length; k++) {
                stages[k] = new Histogram(3_600_000_000L, 3);
            }
            for (int i = first; i < total; i++) {
                long[] at = {returned[i], read.get(i), acked.get(i), polled[0].get(i), applied[0].get(i)};
                for (int k = 0; k < stages.length; k++) {
                    if (at[k] > 0 && at[k + 1] > 0) {
                        stages[k].recordValue(Math.max(0, at[k + 1] - at[k]));
                    }
                }
            }
            print("  commit -> read", stages[0]);
            print("  read -> acknowledged", stages[1]);
            print("  acknowledged -> polled", stages[2]);
            print("  polled -> on side a", stages[3]);
        }
        mark.join();
        for (int s = 0; s < sides.size(); s++) {
            SyncMetrics m = sides.get(s);
            Histogram h = m.heartbeatLag();
            h.subtract(beatsBefore[s]);
            System.out.printf("%-24s n=%-7d p50=%d ms p99=%d ms p99.9=%d ms max=%d ms%n", "heartbeat lag, side " + m.side(),
                    h.getTotalCount(), h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getValueAtPercentile(99.9),
                    h.getMaxValue());
        }
        cpu.print(secs);
        daemon.shutdown();
        if (publisher != null) {
            publisher.shutdown();
        }
        // the run counts only when every row is in the table once and every counted one reached both sides
        Map<String, String> expected = f.expectedRows();
        long inTable = expected.size();
        System.out.printf("writers: %d transactions retried as deadlock victims; %d rows in the table of %d written%n",
                deadlocks.get(), inTable, total);
        List<String> wrong = new ArrayList<>();
        writerFailures.forEach(e -> wrong.add("a writer failed: " + e));
        if (inTable != total) {
            wrong.add("the table holds " + inTable + " of the " + total + " rows written");
        }
        if (late > 0) {
            wrong.add("NOT APPLIED within 60 s of the last commit: " + late + " rows");
        }
        if (!wrong.isEmpty()) {
            wrong.forEach(System.out::println);
            throw new IllegalStateException("the lag run is not valid: " + String.join("; ", wrong));
        }
        // and each side holds every row at the table's version
        for (SyncMetrics m : sides) {
            f.awaitSide(m.side(), expected, 10);
        }
        System.out.println("end check: every row written is in the table once and on both sides at its version");
        return new double[]{both.getValueAtPercentile(50) / 1000.0, both.getValueAtPercentile(99) / 1000.0,
                both.getValueAtPercentile(99.9) / 1000.0};
    }

    /** MySQL's deadlock victim (1213) and rpctl's own retry signal share this SQLState: the transaction was rolled back whole. */
    private static final String ROLLED_BACK = "40001";

    /**
     * Runs the writer's autocommit INSERT, again when InnoDB rolled it back as a deadlock victim
     * (the version triggers' locking reads of the tombstone table can deadlock two inserts of
     * neighbouring keys); nothing of a victim is committed, so running it again writes each row
     * once. A short random pause first, as the claim service's retry, so two victims do not meet again.
     */
    private static void insertRetryingVictims(PreparedStatement ps, AtomicInteger deadlocks)
            throws SQLException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                ps.executeUpdate();
                return;
            } catch (SQLException e) {
                if (attempt == 20 || !(ROLLED_BACK.equals(e.getSQLState()) || e.getErrorCode() == 1213)) {
                    throw e;
                }
                deadlocks.incrementAndGet();
                Thread.sleep(ThreadLocalRandom.current().nextLong(1, 2 + Math.min(attempt, 10) * 2L));
            }
        }
    }

    /** Writes a backlog of {@code rows} claim rows in transactions of {@code perTx}; returns where it starts. */
    private static BinlogPosition backlog(SyncFixture f, int rows, int perTx) throws Exception {
        BinlogPosition from = f.repo().serverNow();
        try (Connection c = f.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            for (int done = 0; done < rows; ) {
                int n = Math.min(Math.min(10_000, perTx), rows - done);
                st.execute("INSERT INTO " + f.table + " (activity_id, user_id, amount, request_id, version) SELECT "
                        + f.activity + ", seq + " + done + ", seq, 'bulk', 1 FROM seq_1_to_" + n);
                done += n;
                if (done % perTx == 0 || done == rows) {
                    c.commit();
                }
            }
        }
        System.out.printf("backlog: %d rows in transactions of %d, %s .. %s%n", rows, perTx, from, f.repo().serverNow());
        return from;
    }

    /**
     * Seconds until every daemon's metrics of each side add up to {@code rows} applied, or 600 s;
     * and, in {@code [1]}, until the first row was applied (start-up: a consumer group's join).
     */
    private static double[] untilApplied(List<SyncService> daemons, int rows, long t0) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
        double first = -1;
        while (System.nanoTime() < until) {
            Map<String, Long> bySide = new HashMap<>();
            for (SyncService d : daemons) {
                for (SyncMetrics m : d.metrics()) {
                    bySide.merge(m.side(), m.rowsApplied(), Long::sum);
                }
            }
            if (first < 0 && bySide.values().stream().anyMatch(n -> n > 0)) {
                first = (System.nanoTime() - t0) / 1e9;
            }
            if (bySide.values().stream().allMatch(n -> n >= rows)) {
                break;
            }
            Thread.sleep(20);
        }
        return new double[]{(System.nanoTime() - t0) / 1e9, Math.max(0, first)};
    }

    private static void kafkaCatchup(SyncFixture f, int rows, int perTx) throws Exception {
        BinlogPosition from = backlog(f, rows, perTx);
        // the direct pipelines, as 'catchup' measures them
        f.repo().save(f.prefix + "a", from);
        f.repo().save(f.prefix + "b", from);
        SyncService direct = f.service("all", false);
        long t0 = System.nanoTime();
        direct.start();
        double[] directSecs = untilApplied(List.of(direct), rows, t0);
        direct.shutdown();
        double floor = plainSets(f, rows);

        // the backlog into the topic; the appliers then read it from the topic's start
        f.repo().save(f.prefix + SyncService.PUBLISHER, from);
        SyncService publisher = KafkaPipelineIT.publisher(f, false);
        t0 = System.nanoTime();
        publisher.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
        while (System.nanoTime() < until && publisher.metrics().get(0).rowsApplied() < rows) {
            Thread.sleep(20);
        }
        double publishSecs = (System.nanoTime() - t0) / 1e9;
        publisher.shutdown();

        double[][] applierSecs = new double[2][];
        for (int n = 1; n <= 2; n++) {
            // a group of its own, reading the topic from its start
            f.env.put("RPCTL_KAFKA_GROUP_PREFIX", "bench" + f.id + "-" + n);
            App fresh = new App(f.config());
            try {
                List<SyncService> appliers = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    var c = fresh.config();
                    appliers.add(new SyncService(new SyncRepository(fresh.primary(), c.mapping()), fresh.sides("all"),
                            fresh.protocol(), c.mapping(), c.sync(), new SyncService.Options(f.prefix, false, false,
                            SyncService.Mode.APPLY, new dev.rpctl.kafka.RpctlFormat(c.mapping().claimTable())),
                            new dev.rpctl.kafka.KafkaClients(c.kafka())));
                }
                t0 = System.nanoTime();
                for (SyncService a : appliers) {
                    a.start();
                }
                applierSecs[n - 1] = untilApplied(appliers, rows, t0);
                for (SyncService a : appliers) {
                    a.shutdown();
                }
            } finally {
                fresh.close();
            }
        }
        int lanes = f.app().config().sync().lanes();
        System.out.printf(Locale.ROOT, "%ncatch-up of %d rows, one run (a shared machine: read the ratios, not the rates):%n", rows);
        System.out.printf(Locale.ROOT, "%-50s %8s %9s %8s %14s%n", "PATH", "SECONDS", "ROWS/S", "X SETS", "AFTER START-UP");
        row("plain pipelined SETs of as many keys, both sides", floor, 0, rows, floor);
        row("direct pipelines, both sides (" + lanes + " lanes each)", directSecs[0], directSecs[1], rows, floor);
        row("publisher, binlog -> topic (" + Integer.getInteger("bench.partitions", 12) + " partitions)", publishSecs, 0,
                rows, floor);
        for (int n = 1; n <= 2; n++) {
            row(n + " applier" + (n == 1 ? "" : "s") + " a side, topic -> both sides", applierSecs[n - 1][0],
                    applierSecs[n - 1][1], rows, floor);
            if (n > 1) {
                row("  the same, per applier", applierSecs[n - 1][0] * n, applierSecs[n - 1][1] * n, rows, floor);
            }
        }
        System.out.println("AFTER START-UP: rows/s from the first row applied (an applier's first includes its group's join)");
    }

    /** One row of the catch-up table: its rate and its ratio to plain SETs, and its rate after start-up. */
    private static void row(String what, double secs, double startup, int rows, double floorSecs) {
        System.out.printf(Locale.ROOT, "%-50s %8.2f %9.0f %7.3fx %14.0f%n", what, secs, rows / secs, floorSecs / secs,
                startup > 0 ? rows / (secs - startup) : rows / secs);
    }

    /**
     * CPU seconds spent from its making to {@link #print}: by this JVM's threads, grouped by what
     * their names say they do, and by the local Kafka broker when its pid file is there. On a
     * shared machine CPU time moves far less than latency, so it shows where the work is.
     */
    private static final class CpuUse {
        private final Map<Long, Long> before = new HashMap<>();
        private final long brokerBefore = brokerTicks();

        CpuUse() {
            ThreadMXBean t = ManagementFactory.getThreadMXBean();
            for (long id : t.getAllThreadIds()) {
                before.put(id, Math.max(0, t.getThreadCpuTime(id)));
            }
        }

        void print(double wallSecs) {
            ThreadMXBean t = ManagementFactory.getThreadMXBean();
            Map<String, Long> byKind = new TreeMap<>();
            for (ThreadInfo i : t.getThreadInfo(t.getAllThreadIds())) {
                if (i == null) {
                    continue;
                }
                long ns = t.getThreadCpuTime(i.getThreadId()) - before.getOrDefault(i.getThreadId(), 0L);
                byKind.merge(i.getThreadName().replaceAll("[-0-9]*(it|bench)?[0-9]+-?", "-").replaceAll("-+", "-"),
                        Math.max(0, ns), Long::sum);
            }
            StringBuilder sb = new StringBuilder();
            byKind.entrySet().stream().filter(e -> e.getValue() >= 50_000_000L)
                    .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                    .forEach(e -> sb.append(String.format(Locale.ROOT, " %s %.1f;", e.getKey(), e.getValue() / 1e9)));
            System.out.printf(Locale.ROOT, "cpu seconds over %.1f s of writes, by thread:%s%n", wallSecs, sb);
            long broker = brokerTicks();
            if (broker >= 0 && brokerBefore >= 0) {
                System.out.printf(Locale.ROOT, "cpu seconds of the kafka broker: %.1f%n", (broker - brokerBefore) / 100.0);
            }
        }

        /** utime + stime of the local broker in clock ticks (100 a second), or -1. */
        private static long brokerTicks() {
            try {
                String pid = Files.readString(Path.of(".local/kafka/kafka.pid")).trim();
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return Long.parseLong(f[11]) + Long.parseLong(f[12]);
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }
    }

    /** The user of a message key {@code <activity>:<user>}; -1 for a heartbeat's. */
    private static long userOfMessageKey(String key) {
        int colon = key == null ? -1 : key.indexOf(':');
        return colon < 0 ? -1 : Long.parseLong(key, colon + 1, key.length(), 10);
    }

    /** Wall-clock microseconds, the clock the lanes stamp applies with. */
    private static long micros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }

    /** A histogram of microseconds, printed in milliseconds. */
    private static void print(String what, Histogram h) {
        System.out.printf(Locale.ROOT, "%-24s n=%-7d p50=%.2f ms p99=%.2f ms p99.9=%.2f ms max=%.2f ms%n", what,
                h.getTotalCount(), h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
                h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0);
    }

    private static void catchup(SyncFixture f, int rows, int perTx) throws Exception {
        SyncRepository repo = f.repo();
        BinlogPosition from = backlog(f, rows, perTx);
        BinlogPosition to = repo.serverNow();

        double bare1 = bareTail(f, from, to);
        System.out.printf("bare BinaryLogClient, no-op handler: %.2f s, %.0f rows/s%n", bare1, rows / bare1);

        repo.save(f.prefix + "a", from);
        repo.save(f.prefix + "b", from);
        SyncService daemon = f.service("all", false);
        long t1 = System.nanoTime();
        daemon.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
        while (System.nanoTime() < until && !daemon.metrics().stream().allMatch(m -> m.rowsApplied() >= rows)) {
            Thread.sleep(20);
        }
        double sync = (System.nanoTime() - t1) / 1e9;
        daemon.shutdown();
        System.out.printf("sync-daemon, both sides (%d lanes each): %.2f s, %.0f rows/s to both sides%n",
                f.app().config().sync().lanes(), sync, rows / sync);

        double floor = plainSets(f, rows);
        System.out.printf("floor: plain pipelined SETs of as many keys to both sides, no binlog: %.2f s, %.0f keys/s each%n",
                floor, rows / floor);

        double bare2 = bareTail(f, from, to);
        System.out.printf("bare BinaryLogClient again: %.2f s, %.0f rows/s%n", bare2, rows / bare2);
        System.out.printf(Locale.ROOT, "ratio: %.3fx of the faster bare tail (the SET floor alone: %.3fx)%n",
                Math.min(bare1, bare2) / sync, Math.min(bare1, bare2) / floor);
        StringBuilder pools = new StringBuilder();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pools.append(pools.length() == 0 ? "" : ", ").append(pool.getName()).append(' ')
                        .append(pool.getPeakUsage().getUsed() >> 20).append(" MiB");
            }
        }
        StringBuilder gcs = new StringBuilder();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcs.append(gcs.length() == 0 ? "" : ", ").append(gc.getName()).append(' ').append(gc.getCollectionCount());
        }
        System.out.printf("heap: max %d MiB; peak per pool: %s; collections: %s%n",
                Runtime.getRuntime().maxMemory() >> 20, pools, gcs);
    }

    /**
     * Seconds to write {@code rows} fresh keys with plain pipelined SETs (no script, nothing read)
     * to both sides at once, one client each: what the sides alone cost at the least.
     */
    private static double plainSets(SyncFixture f, int rows) throws Exception {
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        for (CacheSide side : f.app().sides("all")) {
            Thread t = new Thread(() -> RawRedis.call(side, j -> {
                for (int from = 0; from < rows; from += 1000) {
                    try (PipelineBase p = j.pipelined()) {
                        for (int i = from; i < Math.min(rows, from + 1000); i++) {
                            p.set(f.prefix + "floor:" + i, "R|1|100|paid|bulk|1764300000000", SetParams.setParams().px(60_000));
                        }
                        p.sync();
                    }
                }
                return null;
            }));
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Seconds a bare client takes from {@code from} to {@code to}. */
    private static double bareTail(SyncFixture f, BinlogPosition from, BinlogPosition to) throws Exception {
        long t0 = System.nanoTime();
        BinaryLogClient c = new BinaryLogClient(f.env.get("RPCTL_MYSQL_HOST"), Integer.parseInt(f.env.get("RPCTL_MYSQL_PORT")),
                f.env.get("RPCTL_MYSQL_USER"), f.env.get("RPCTL_MYSQL_PASSWORD"));
        c.setServerId(Long.parseLong(f.env.get("RPCTL_SYNC_SERVER_ID_BASE")) + 7);
        c.setKeepAlive(false);
        EventDeserializer d = new EventDeserializer();
        d.setCompatibilityMode(EventDeserializer.CompatibilityMode.DATE_AND_TIME_AS_LONG_MICRO,
                EventDeserializer.CompatibilityMode.CHAR_AND_BINARY_AS_BYTE_ARRAY);
        c.setEventDeserializer(d);
        c.setGtidSet(from.gtid());
        CountDownLatch reached = new CountDownLatch(1);
        c.registerEventListener(e -> {
            if (e.getHeader() instanceof EventHeaderV4 h && c.getBinlogFilename() != null
                    && c.getBinlogFilename().compareTo(to.file()) >= 0 && h.getNextPosition() >= to.position()) {
                reached.countDown();
            }
        });
        c.connect(10_000);
        if (!reached.await(600, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the bare tail did not reach " + to);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        c.disconnect();
        return secs;
    }
}
