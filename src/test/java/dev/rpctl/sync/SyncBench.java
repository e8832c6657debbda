package dev.rpctl.sync;

import com.github.shyiko.mysql.binlog.BinaryLogClient;
import com.github.shyiko.mysql.binlog.event.EventHeaderV4;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import dev.rpctl.binlog.BinlogPosition;
import org.HdrHistogram.Histogram;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Figures for the sync pipeline, against the local services:
 * {@code lag RATE SECONDS}: claims at a steady rate, commit-to-side lag per side (p50/p99/p99.9);
 * {@code catchup ROWS}: a backlog applied by the pipelines vs a bare BinaryLogClient tail with a
 * no-op handler over the same binlog range.
 */
public final class SyncBench {
    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "lag";
        try (SyncFixture f = new SyncFixture()) {
            if (mode.equals("lag")) {
                lag(f, args.length > 1 ? Integer.parseInt(args[1]) : 2000, args.length > 2 ? Integer.parseInt(args[2]) : 20);
            } else {
                catchup(f, args.length > 1 ? Integer.parseInt(args[1]) : 200_000);
            }
        }
    }

    private static void lag(SyncFixture f, int rate, int seconds) throws Exception {
        SyncService daemon = f.service("all", true);
        daemon.start();
        Thread.sleep(2000);
        int writers = 8;
        long total = (long) rate * seconds;
        AtomicLong next = new AtomicLong();
        long start = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            Thread t = new Thread(() -> {
                try (Connection c = f.connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO " + f.table
                        + " (activity_id, user_id, amount, request_id, version) VALUES (?, ?, 100, 'bench', 1)")) {
                    long i;
                    while ((i = next.getAndIncrement()) < total) {
                        long due = start + i * 1_000_000_000L / rate;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                        ps.setLong(1, f.activity);
                        ps.setLong(2, i + 1);
                        ps.executeUpdate();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until && !daemon.metrics().stream().allMatch(m -> m.rowLag().getTotalCount() >= total)) {
            Thread.sleep(100);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf("steady claims: %d rows at %d/s target (%.0f/s achieved) over %.1f s%n", total, rate, total / secs, secs);
        for (SyncMetrics m : daemon.metrics()) {
            print("side " + m.side() + " row lag (updated_at -> applied)", m.rowLag());
            print("side " + m.side() + " heartbeat lag", m.heartbeatLag());
        }
        daemon.shutdown();
    }

    private static void print(String what, Histogram h) {
        System.out.printf("%-42s n=%-7d p50=%d ms p99=%d ms p99.9=%d ms max=%d ms%n", what, h.getTotalCount(),
                h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue());
    }

    private static void catchup(SyncFixture f, int rows) throws Exception {
        SyncRepository repo = f.repo();
        BinlogPosition from = repo.serverNow();
        for (int done = 0; done < rows; done += 10_000) {
            int n = Math.min(10_000, rows - done);
            f.sql("INSERT INTO " + f.table + " (activity_id, user_id, amount, request_id, version) SELECT "
                    + f.activity + ", seq + " + done + ", seq, 'bulk', 1 FROM seq_1_to_" + n);
        }
        BinlogPosition to = repo.serverNow();
        System.out.printf("backlog: %d rows, %s .. %s%n", rows, from, to);

        long t0 = System.nanoTime();
        bareTail(f, from, to);
        double bare = (System.nanoTime() - t0) / 1e9;
        System.out.printf("bare BinaryLogClient, no-op handler: %.2f s, %.0f rows/s%n", bare, rows / bare);

        repo.save(f.prefix + "a", from);
        repo.save(f.prefix + "b", from);
        SyncService daemon = f.service("all", false);
        long t1 = System.nanoTime();
        daemon.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (System.nanoTime() < until && !daemon.metrics().stream().allMatch(m -> m.rowsApplied() >= rows)) {
            Thread.sleep(20);
        }
        double sync = (System.nanoTime() - t1) / 1e9;
        System.out.printf("sync-daemon, both sides (%d lanes each): %.2f s, %.0f rows/s per side%n",
                f.app().config().sync().lanes(), sync, rows / sync);
        daemon.shutdown();
    }

    private static void bareTail(SyncFixture f, BinlogPosition from, BinlogPosition to) throws Exception {
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
        reached.await(300, TimeUnit.SECONDS);
        c.disconnect();
    }
}
