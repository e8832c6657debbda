package dev.rpctl.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.protocol.Entry;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class SyncDaemonIT {

    @Test
    void rows_written_by_plain_sql_reach_both_sides_with_the_right_entries() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            SyncService daemon = f.service("all", true);
            daemon.start();
            f.onClose(daemon::shutdown);
            SyncFixture.awaitLeading(daemon);

            // rows of a table the pipelines do not map, in the same transactions as mapped rows:
            // skipped undecoded, without disturbing the rows around them
            String other = f.table + "_other";
            f.sql("CREATE TABLE " + other + " (id BIGINT PRIMARY KEY, at DATETIME(6), note TEXT, n DECIMAL(20,4))");
            f.onClose(() -> f.sql("DROP TABLE IF EXISTS " + other));
            try (java.sql.Connection c = f.connect(); java.sql.Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                st.execute("INSERT INTO " + other + " SELECT seq, NOW(6), REPEAT('x', seq), seq / 3 FROM seq_1_to_300");
                f.insertUsers(c, 1, 25);
                st.execute("UPDATE " + other + " SET note = 'y', n = n + 1 WHERE id <= 200");
                f.insertUsers(c, 26, 50);
                st.execute("DELETE FROM " + other + " WHERE id > 100");
                c.commit();
            }
            f.sql("UPDATE " + f.table + " SET amount = amount + 1, status = 'refunded', version = version + 1 WHERE user_id <= 10");
            f.sql("DELETE FROM " + f.table + " WHERE user_id BETWEEN 41 AND 50");

            Map<String, String> expected = new LinkedHashMap<>(f.expectedRows());
            for (long u = 41; u <= 50; u++) {
                expected.put(f.key(f.activity, u), Entry.tombstone(2).encode());
            }
            assertEquals(40 + 10, expected.size());
            f.awaitSide("a", expected, 30);
            f.awaitSide("b", expected, 30);
            assertTrue(expected.get(f.key(f.activity, 3)).startsWith("R|2|31|refunded|req-3|"));

            daemon.shutdown();
            BinlogPosition saved = f.repo().load(f.prefix + "a").orElseThrow();
            assertEquals(f.repo().load(f.prefix + "b").orElseThrow().file(), saved.file());
            assertTrue(daemon.metrics().stream().allMatch(m -> m.rowsApplied() >= 60));

            StatusService.PipelineStatus status = f.app().statusService(java.time.Duration.ofSeconds(30)).status().stream()
                    .filter(s -> s.pipeline().equals(f.prefix + "a")).findFirst().orElseThrow();
            assertEquals(saved.position(), status.binlogPosition());
            // the daemon is gone: nobody leads the pipeline, and status says so instead of "ok"
            assertTrue(status.leaderConnection() == null && status.heartbeatAgeMillis() >= 0, status.toString());
            assertEquals("no leader", status.state(), status.toString());
            assertTrue(status.lagMillis() >= 0, "a pipeline that applied heartbeats has a lag: " + status);
        }
    }

    @Test
    void ddl_key_changes_deletes_and_a_200000_row_transaction_stream_through() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            SyncService daemon = f.service("all", true);
            daemon.start();
            f.onClose(daemon::shutdown);
            SyncFixture.awaitLeading(daemon);

            f.insertUsers(1, 20);
            // shape changes mid-stream: a column before the mapped ones, then one dropped again
            f.sql("ALTER TABLE " + f.table + " ADD COLUMN note VARCHAR(32) NULL FIRST");
            f.insertUsers(21, 40);
            f.sql("UPDATE " + f.table + " SET note = 'x', version = version + 1 WHERE user_id BETWEEN 21 AND 25");
            f.sql("ALTER TABLE " + f.table + " DROP COLUMN note");
            // user 30 becomes user 9000030: the old key must say "gone", the new one hold the row
            f.sql("UPDATE " + f.table + " SET user_id = 9000030, version = version + 1 WHERE user_id = 30");
            f.sql("DELETE FROM " + f.table + " WHERE user_id = 31");
            f.sql("INSERT INTO " + f.table + " (activity_id, user_id, amount, request_id, version)"
                    + " SELECT " + (f.activity + 1) + ", seq, seq, CONCAT('bulk-', seq), 1 FROM seq_1_to_200000");

            Map<String, String> expected = new LinkedHashMap<>(f.expectedRows());
            expected.put(f.key(f.activity, 30), Entry.tombstone(2).encode());
            expected.put(f.key(f.activity, 31), Entry.tombstone(2).encode());
            assertEquals(40 - 2 + 1 + 2 + 200_000, expected.size());
            assertTrue(expected.containsKey(f.key(f.activity, 9000030)));
            f.awaitSide("a", expected, 120);
            f.awaitSide("b", expected, 120);
        }
    }

    @Test
    void a_paused_side_does_not_hold_the_other_back_and_catches_up_after() throws Exception {
        int port = SyncFixture.freePort();
        Path dir = Files.createTempDirectory("rpctl-it-redis-");
        Process redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--daemonize", "yes",
                "--pidfile", dir.resolve("redis.pid").toString()).inheritIO().start();
        assertEquals(0, redis.waitFor());
        long pid = awaitPid(dir.resolve("redis.pid"));
        try (SyncFixture f = new SyncFixture()) {
            f.env.put("RPCTL_SIDE_B_NODES", "127.0.0.1:" + port);
            f.env.put("RPCTL_SIDE_B_TIMEOUT", "500ms");
            f.env.put("RPCTL_SYNC_QUEUE_CAPACITY", "64");
            f.env.put("RPCTL_SYNC_UNHEALTHY_LAG", "2s");
            SyncService daemon = f.service("all", true);
            daemon.start();
            f.onClose(daemon::shutdown);
            f.onClose(() -> signal(pid, "CONT"));
            SyncFixture.awaitLeading(daemon);

            f.insertUsers(1, 10);
            f.awaitSide("b", f.expectedRows(), 30);

            signal(pid, "STOP");
            for (int i = 0; i < 20; i++) {
                f.insertUsers(100 + i * 50L, 100 + i * 50L + 49);
            }
            f.sql("UPDATE " + f.table + " SET version = version + 1, amount = 1 WHERE user_id < 500");
            Map<String, String> expected = f.expectedRows();
            // side a is fed on while side b cannot take a single write
            f.awaitSide("a", expected, 30);
            SyncMetrics a = daemon.metrics().stream().filter(m -> m.side().equals("a")).findFirst().orElseThrow();
            SyncMetrics b = daemon.metrics().stream().filter(m -> m.side().equals("b")).findFirst().orElseThrow();
            assertTrue(b.rowsApplied() < a.rowsApplied(), "side b applied nothing while paused");

            // lag: side a keeps applying heartbeats; side b's lag grows for as long as it stays paused
            long bBeat = b.appliedBeatMillis();
            long aBeat = a.appliedBeatMillis();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (a.appliedBeatMillis() <= aBeat && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            long t1 = System.currentTimeMillis();
            long bLag1 = b.lagMillis(t1);
            Thread.sleep(200);
            long t2 = System.currentTimeMillis();
            long bLag2 = b.lagMillis(t2);
            assertEquals(bBeat, b.appliedBeatMillis(), "side b applied no heartbeat while paused");
            assertTrue(a.appliedBeatMillis() > aBeat, "side a went on applying heartbeats");
            assertEquals(t2 - t1, bLag2 - bLag1, "side b's lag grows with the clock");
            assertTrue(a.lagMillis(t2) < bLag2, "side a's lag stays below side b's");
            StatusService status = f.app().statusService(java.time.Duration.ofSeconds(30));
            Map<String, Long> lags = new LinkedHashMap<>();
            status.status().forEach(s -> lags.put(s.pipeline(), s.lagMillis()));
            assertTrue(lags.get(f.prefix + "b") > lags.get(f.prefix + "a"), "status shows side b behind side a: " + lags);

            // side b down: it is reported so, and the daemon turns unhealthy once its lag passes the bound
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while ((b.sideUp() || daemon.healthy()) && System.nanoTime() < until) {
                Thread.sleep(100);
            }
            assertTrue(!b.sideUp() && a.sideUp(), "side b reported down, side a up");
            assertTrue(!daemon.healthy(), "unhealthy with side b " + b.lagMillis(System.currentTimeMillis()) + " ms behind");
            String metrics = MetricsServer.render(daemon.metrics());
            assertTrue(metrics.contains("rpctl_sync_side_up{pipeline=\"" + f.prefix + "b\",side=\"b\"} 0"), metrics);
            assertTrue(!metrics.contains("NaN"), metrics);
            String stateB = f.app().statusService(java.time.Duration.ofSeconds(1)).status().stream()
                    .filter(s -> s.pipeline().equals(f.prefix + "b")).findFirst().orElseThrow().state();
            assertTrue(stateB.equals("behind") || stateB.equals("stale"), "status names side b's trouble: " + stateB);

            signal(pid, "CONT");
            f.awaitSide("b", expected, 60);
            until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!(b.sideUp() && daemon.healthy()) && System.nanoTime() < until) {
                Thread.sleep(100);
            }
            assertTrue(b.sideUp() && daemon.healthy(), "side b up and the daemon healthy again");
        } finally {
            signal(pid, "CONT");
            new ProcessBuilder("redis-cli", "-p", Integer.toString(port), "shutdown", "nosave").start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void a_daemon_killed_with_kill_9_restarts_from_its_checkpoint_and_ends_with_every_row_right() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            Process first = f.rpctl("first", "sync-daemon", "--pipeline-prefix", f.prefix, "--from-now",
                    "--metrics", "127.0.0.1:" + SyncFixture.freePort());
            awaitCheckpoint(f, f.prefix + "a");
            f.insertUsers(1, 100);
            f.awaitSide("a", f.expectedRows(), 30);
            // writes go on while the daemon dies mid-stream and stays dead
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < 40; i++) {
                        f.insertUsers(1000 + i * 100L, 1000 + i * 100L + 99);
                        f.sql("UPDATE " + f.table + " SET version = version + 1, amount = amount + 1 WHERE user_id % 7 = " + (i % 7));
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            writer.start();
            Thread.sleep(300);
            first.destroyForcibly();
            assertTrue(first.waitFor(10, TimeUnit.SECONDS));
            BinlogPosition atKill = f.repo().load(f.prefix + "a").orElseThrow();
            writer.join();

            int metricsPort = SyncFixture.freePort();
            Process second = f.rpctl("second", "sync-daemon", "--pipeline-prefix", f.prefix,
                    "--metrics", "127.0.0.1:" + metricsPort);
            Map<String, String> expected = f.expectedRows();
            f.awaitSide("a", expected, 60);
            f.awaitSide("b", expected, 60);
            assertTrue(f.stderr("second").contains("from " + atKill.file()),
                    "the restart resumed at the checkpoint: " + f.stderr("second"));
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            java.net.http.HttpResponse<String> health = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + metricsPort + "/health")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            String metrics = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("rpctl_sync_leader{pipeline=\"" + f.prefix + "b\",side=\"b\"} 1"), metrics);
            assertTrue(metrics.contains("rpctl_sync_heartbeat_lag_seconds_bucket{pipeline=\"" + f.prefix + "a\",side=\"a\",le=\"+Inf\"}"), metrics);
            assertTrue(metrics.contains("rpctl_sync_lag_seconds{pipeline=\"" + f.prefix + "b\",side=\"b\"} "), metrics);

            second.destroy();
            assertTrue(second.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, second.exitValue(), "SIGTERM drains and exits 0");
        }
    }

    @Test
    void a_standby_daemon_takes_over_when_the_leader_is_killed_and_no_wait_refuses_with_75() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            Process leader = f.rpctl("leader", "sync-daemon", "--side", "a", "--pipeline-prefix", f.prefix, "--from-now",
                    "--metrics", "127.0.0.1:" + SyncFixture.freePort());
            awaitCheckpoint(f, f.prefix + "a");
            awaitLockHeld(f, f.prefix + "a");
            Process standby = f.rpctl("standby", "sync-daemon", "--side", "a", "--pipeline-prefix", f.prefix,
                    "--metrics", "127.0.0.1:" + SyncFixture.freePort());

            Process third = f.rpctl("third", "sync-daemon", "--side", "a", "--pipeline-prefix", f.prefix, "--no-wait",
                    "--metrics", "127.0.0.1:" + SyncFixture.freePort());
            assertTrue(third.waitFor(30, TimeUnit.SECONDS));
            assertEquals(75, third.exitValue());
            String line = f.stderr("third").strip();
            // the holder by host:pid as it recorded itself, then its lock session
            assertTrue(line.contains("pipeline " + f.prefix + "a is already run by ") && line.contains(":" + leader.pid()
                    + ", MySQL connection"), line);

            Process drop = f.rpctl("drop", "pipeline", "drop", f.prefix + "a");
            assertTrue(drop.waitFor(30, TimeUnit.SECONDS));
            assertEquals(75, drop.exitValue(), f.stderr("drop"));
            assertTrue(f.stderr("drop").contains("pipeline " + f.prefix + "a is running"), f.stderr("drop"));

            f.insertUsers(1, 50);
            f.awaitSide("a", f.expectedRows(), 30);
            assertTrue(standby.isAlive());
            leader.destroyForcibly();
            leader.waitFor(10, TimeUnit.SECONDS);

            f.sql("UPDATE " + f.table + " SET version = version + 1, amount = 7 WHERE user_id <= 25");
            f.insertUsers(51, 80);
            f.awaitSide("a", f.expectedRows(), 60);
            assertTrue(f.stderr("standby").contains("leading"), f.stderr("standby"));

            // status names the new leader by its host:pid
            Process status = f.rpctl("status", "--json", "status", "--all");
            assertTrue(status.waitFor(30, TimeUnit.SECONDS));
            JsonNode pipeline = null;
            for (JsonNode p : new ObjectMapper().readTree(SyncFixture.read(Path.of("target", "it-logs", f.prefix + "status.out")))
                    .get("pipelines")) {
                if (p.get("pipeline").asText().equals(f.prefix + "a")) {
                    pipeline = p;
                }
            }
            assertTrue(pipeline != null && pipeline.get("leader_process").asText().endsWith(":" + standby.pid()), String.valueOf(pipeline));
            assertEquals(f.repo().lockHolder(PipelineLock.lockName(f.prefix + "a")), pipeline.get("leader_connection").asLong());
        }
    }

    @Test
    void a_metrics_port_in_use_is_refused_with_78_in_one_line_naming_the_flag_typed() throws Exception {
        try (SyncFixture f = new SyncFixture();
             java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            Process p = f.rpctl("taken", "sync-daemon", "--side", "a", "--pipeline-prefix", f.prefix, "--from-now",
                    "--metrics", address);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(78, p.exitValue());
            // the daemon's log lines come first; the failure is one line of its own
            String err = f.stderr("taken");
            java.util.List<String> failure = err.lines().filter(l -> l.startsWith("rpctl: ")).toList();
            assertEquals(1, failure.size(), err);
            assertTrue(failure.get(0).startsWith("rpctl: flag --metrics: metrics.address " + address + " cannot be listened on: "),
                    err);
        }
    }

    @Test
    void a_binlog_without_full_row_images_is_refused_with_78() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            f.rootSql("SET GLOBAL binlog_row_image = 'MINIMAL'");
            f.onClose(() -> f.rootSql("SET GLOBAL binlog_row_image = 'FULL'"));
            Process p = f.rpctl("minimal", "sync-daemon", "--side", "a", "--pipeline-prefix", f.prefix, "--from-now",
                    "--metrics", "127.0.0.1:" + SyncFixture.freePort());
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(78, p.exitValue());
            String err = f.stderr("minimal");
            assertTrue(err.contains("binlog_row_image=MINIMAL") && err.contains("binlog_row_image=FULL"), err);
        }
    }

    @Test
    void a_checkpoint_whose_binlog_is_purged_is_refused_with_65_and_what_to_do() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            f.sql("INSERT INTO rpctl_checkpoint (pipeline, binlog_file, binlog_position, gtid) VALUES ('"
                    + f.prefix + "a', 'binlog.000000', 4, '')");
            Process p = f.rpctl("purged", "sync-daemon", "--side", "a", "--pipeline-prefix", f.prefix,
                    "--metrics", "127.0.0.1:" + SyncFixture.freePort());
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(65, p.exitValue());
            String err = f.stderr("purged");
            assertTrue(err.contains("binlog.000000") && err.contains("no longer on the server")
                    && err.contains("rpctl reconcile") && err.contains("--from-now"), err);
        }
    }


    static void awaitCheckpoint(SyncFixture f, String pipeline) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < until) {
            Optional<BinlogPosition> p = f.repo().load(pipeline);
            if (p.isPresent()) {
                Thread.sleep(1000);
                return;
            }
            Thread.sleep(100);
        }
        fail("no checkpoint for " + pipeline);
    }

    private static void awaitLockHeld(SyncFixture f, String pipeline) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < until) {
            if (f.repo().lockHolder(PipelineLock.lockName(pipeline)) != null) {
                return;
            }
            Thread.sleep(100);
        }
        fail("nobody took the lock of " + pipeline);
    }

    private static long awaitPid(Path pidFile) throws Exception {
        for (int i = 0; i < 100; i++) {
            if (Files.exists(pidFile) && !Files.readString(pidFile).isBlank()) {
                return Long.parseLong(Files.readString(pidFile).trim());
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("redis did not start");
    }

    private static void signal(long pid, String sig) throws Exception {
        new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).start().waitFor(5, TimeUnit.SECONDS);
    }

}
