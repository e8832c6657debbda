package dev.rpctl.sync;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** One leader at a time, when a leader's lock session dies while its process lives. */
class LeadershipIT {

    @Test
    void a_leader_whose_lock_session_is_killed_writes_nothing_once_a_standby_leads() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            String pipeline = f.prefix + "a";
            SyncService old = f.service("a", true);
            // the old leader's own lock checks are held from the kill on: only the fenced checkpoint
            // save can tell it that it lost the lock
            AtomicBoolean hold = new AtomicBoolean();
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            old.beforeLockCheck(p -> {
                if (hold.get()) {
                    held.countDown();
                    release.await();
                }
            });
            f.onClose(old::crash);
            f.onClose(release::countDown);
            old.start();
            SyncFixture.awaitLeading(old);
            f.insertUsers(1, 20);
            f.awaitSide("a", f.expectedRows(), 30);

            SyncService standby = f.service("a", false);
            f.onClose(standby::shutdown);
            standby.start();
            awaitWaiting(standby);

            hold.set(true);
            assertTrue(held.await(30, TimeUnit.SECONDS));
            long oldSession = f.repo().lockHolder(PipelineLock.lockName(pipeline));
            f.rootSql("KILL " + oldSession);
            SyncFixture.awaitLeading(standby);

            SyncMetrics was = old.metrics().get(0);
            long writes = was.writes();
            long savedAt = was.checkpointSavedAt();
            f.insertUsers(21, 60);
            f.sql("UPDATE " + f.table + " SET version = version + 1, amount = 3 WHERE user_id <= 10");
            f.awaitSide("a", f.expectedRows(), 30);
            long newSession = f.repo().lockHolder(PipelineLock.lockName(pipeline));
            awaitCheckpointBy(f, pipeline, newSession);

            assertEquals(writes, was.writes(), "cache writes by the old leader after the standby took over");
            assertEquals(savedAt, was.checkpointSavedAt(), "checkpoint saves by the old leader after the standby took over");
            assertEquals(newSession, checkpointConnection(f, pipeline), "the checkpoint row's leader session");

            // let its own check run: it stands by again, behind the new leader
            hold.set(false);
            release.countDown();
            awaitWaiting(old);
            assertTrue(!was.leader());
        }
    }

    @Test
    void two_daemons_leading_pipelines_of_one_server_read_its_binlog_as_different_server_ids() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            // the same configuration (one sync.server-id-base), two pipeline names: both lead at once
            SyncService one = f.service("a", true);
            SyncService two = f.service("a", true, f.prefix + "two-");
            f.onClose(one::shutdown);
            f.onClose(two::shutdown);
            one.start();
            SyncFixture.awaitLeading(one);
            two.start();
            SyncFixture.awaitLeading(two);

            f.insertUsers(1, 30);
            f.awaitSide("a", f.expectedRows(), 30);
            awaitApplied(one, 30);
            awaitApplied(two, 30);
            // neither reader was knocked off by the other's: both still lead and read, and neither failed
            assertTrue(one.healthy() && two.healthy());
            assertTrue(one.metrics().get(0).leader() && one.metrics().get(0).connected());
            assertTrue(two.metrics().get(0).leader() && two.metrics().get(0).connected());
        }
    }

    @Test
    void mysql_gone_between_taking_the_lock_and_reading_the_checkpoint_is_waited_out_not_an_exit() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            String host = f.env.get("RPCTL_MYSQL_HOST");
            String port = f.env.get("RPCTL_MYSQL_PORT");
            Forwarder network = new Forwarder(host, Integer.parseInt(port));
            f.onClose(network);
            // the daemon reaches MySQL (its pool, its lock session, its binlog reader) through the forwarder
            // only; the test's own statements go straight to the server
            f.env.put("RPCTL_MYSQL_HOST", "127.0.0.1");
            f.env.put("RPCTL_MYSQL_PORT", Integer.toString(network.port()));
            SyncService daemon = f.service("a", true);
            f.env.put("RPCTL_MYSQL_HOST", host);
            f.env.put("RPCTL_MYSQL_PORT", port);
            AtomicBoolean first = new AtomicBoolean(true);
            daemon.afterLockTaken(p -> {
                if (first.getAndSet(false)) {
                    network.cut();
                }
            });
            f.onClose(daemon::shutdown);
            daemon.start();
            Thread waiter = new Thread(() -> {
                try {
                    daemon.await();
                } catch (Exception e) {
                    // the failure is what the test looks for
                }
            });
            waiter.start();

            SyncMetrics m = daemon.metrics().get(0);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (m.errors() == 0 && waiter.isAlive() && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            assertTrue(waiter.isAlive(), "the daemon ended instead of waiting for MySQL");
            assertTrue(m.errors() > 0, "the daemon did not meet MySQL gone");

            network.restore();
            SyncFixture.awaitLeading(daemon);
            f.insertUsers(1, 30);
            f.awaitSide("a", f.expectedRows(), 30);
            assertTrue(waiter.isAlive() && daemon.healthy());
        }
    }

    private static void awaitApplied(SyncService daemon, long rows) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < until) {
            if (daemon.metrics().get(0).rowsApplied() >= rows) {
                return;
            }
            Thread.sleep(50);
        }
        fail("the pipeline applied " + daemon.metrics().get(0).rowsApplied() + " rows, not " + rows);
    }

    private static void awaitWaiting(SyncService daemon) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < until) {
            if (daemon.metrics().stream().allMatch(SyncMetrics::waiting)) {
                return;
            }
            Thread.sleep(50);
        }
        fail("the daemon did not stand by");
    }

    private static void awaitCheckpointBy(SyncFixture f, String pipeline, long session) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < until) {
            Long c = checkpointConnection(f, pipeline);
            if (c != null && c == session) {
                return;
            }
            Thread.sleep(50);
        }
        fail("the new leader did not save its checkpoint");
    }

    private static Long checkpointConnection(SyncFixture f, String pipeline) throws Exception {
        try (Connection c = f.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT leader_connection FROM rpctl_checkpoint WHERE pipeline = '" + pipeline + "'")) {
            if (!rs.next()) {
                return null;
            }
            long v = rs.getLong(1);
            return rs.wasNull() ? null : v;
        }
    }
}
