package dev.rpctl.sync;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
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

    /**
     * The publisher's checkpoint save finds the lock lost while messages wait unsent behind one
     * whose acknowledgement is held: the save aborts the producer, whose thread then fails the
     * waiting sends through their callbacks. The publisher stops and stands by; once the lock is
     * free it leads again.
     */
    @Test
    void a_publisher_that_loses_its_lock_with_sends_waiting_stops_and_leads_again() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            KafkaPipelineIT.useKafka(f, 1);
            String pipeline = f.prefix + SyncService.PUBLISHER;
            SyncService pub = KafkaPipelineIT.publisher(f, true);
            AtomicBoolean holdSaves = new AtomicBoolean();
            AtomicBoolean holdAcks = new AtomicBoolean();
            CountDownLatch saveHeld = new CountDownLatch(1);
            CountDownLatch saveGo = new CountDownLatch(1);
            CountDownLatch ackHeld = new CountDownLatch(1);
            CountDownLatch ackGo = new CountDownLatch(1);
            pub.beforeCheckpoint(p -> {
                if (holdSaves.get()) {
                    saveHeld.countDown();
                    saveGo.await();
                }
            });
            pub.onAcknowledged(key -> {
                if (holdAcks.get()) {
                    ackHeld.countDown();
                    ackGo.await();
                }
            });
            // the leadership's own lock checks wait too: only the checkpoint save is to find the lock lost
            pub.beforeLockCheck(p -> {
                if (holdSaves.get()) {
                    ackGo.await();
                }
            });
            f.onClose(saveGo::countDown);
            f.onClose(ackGo::countDown);
            f.onClose(pub::crash);
            pub.start();
            SyncFixture.awaitLeading(pub);
            SyncMetrics m = pub.metrics().get(0);

            // the checkpoint thread waits before its next save; users 1-5 are acknowledged, not saved
            holdSaves.set(true);
            assertTrue(saveHeld.await(30, TimeUnit.SECONDS), "the checkpoint thread did not come to its save");
            long acked = m.rowsApplied();
            f.insertUsers(1, 5);
            awaitAtLeast(m::rowsApplied, acked + 5, "users 1-5 were not acknowledged");
            // the producer's thread is held in the next acknowledgement; users 11-20 wait unsent behind it
            holdAcks.set(true);
            f.insertUsers(6, 10);
            assertTrue(ackHeld.await(30, TimeUnit.SECONDS), "no acknowledgement reached the hook");
            long read = m.events();
            f.insertUsers(11, 20);
            f.insertUsers(21, 21);
            awaitAtLeast(m::events, read + 11, "the publisher did not read users 11-21");

            f.rootSql("KILL " + f.repo().lockHolder(PipelineLock.lockName(pipeline)));
            holdSaves.set(false);
            saveGo.countDown();
            // the save is refused and aborts the producer, which waits for its thread
            awaitInFrame("checkpoint-" + pipeline, "org.apache.kafka.clients.producer.KafkaProducer", "close");
            holdAcks.set(false);
            ackGo.countDown();

            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (m.leader() && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertTrue(!m.leader(), "the publisher did not stop after losing its lock");
            SyncFixture.awaitLeading(pub);
            assertTrue(pub.healthy());
        }
    }

    private static void awaitAtLeast(java.util.function.LongSupplier value, long atLeast, String otherwise)
            throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (value.getAsLong() < atLeast && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertTrue(value.getAsLong() >= atLeast, otherwise);
    }

    /** Waits until the named thread runs the given method (a place it blocks in). */
    private static void awaitInFrame(String thread, String className, String method) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < until) {
            for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
                if (e.getKey().getName().equals(thread)) {
                    for (StackTraceElement frame : e.getValue()) {
                        if (frame.getClassName().equals(className) && frame.getMethodName().equals(method)) {
                            return;
                        }
                    }
                }
            }
            Thread.sleep(20);
        }
        fail("thread " + thread + " never ran " + className + "." + method);
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
