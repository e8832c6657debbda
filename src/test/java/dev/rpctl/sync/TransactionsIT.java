package dev.rpctl.sync;

import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.binlog.RowChange;
import dev.rpctl.binlog.Values;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Transactions the daemon must apply whole or not at all: savepoints and XA, across crashes and restarts. */
class TransactionsIT {

    @Test
    void a_transaction_with_savepoints_crashed_between_its_parts_is_right_on_both_sides_after_a_restart() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            SyncService first = f.service("all", true);
            CountDownLatch reached = new CountDownLatch(2);
            CountDownLatch never = new CountDownLatch(1);
            // each pipeline's reader stops at user 9, the first row after the rolled-back savepoint
            first.beforeRow((pipeline, c) -> {
                if (c.after() != null && Long.valueOf(9).equals(Values.asLong(RowChange.value(c.after(), RowChange.indexOf(c.columns(), "user_id"))))) {
                    reached.countDown();
                    never.await();
                }
            });
            first.start();
            f.onClose(first::crash);
            SyncFixture.awaitLeading(first);

            try (Connection c = f.connect(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                f.insertUsers(c, 1, 5);
                st.execute("SAVEPOINT s1");
                f.insertUsers(c, 6, 8);
                st.execute("ROLLBACK TO SAVEPOINT s1");
                f.insertUsers(c, 9, 12);
                st.execute("SAVEPOINT s2");
                st.execute("UPDATE " + f.table + " SET amount = 99, version = version + 1 WHERE user_id = 1");
                st.execute("RELEASE SAVEPOINT s2");
                c.commit();
            }
            assertTrue(reached.await(30, TimeUnit.SECONDS), "both readers reached user 9");
            // the rows before the first savepoint are on both sides, and the checkpointer has run since
            Map<String, String> firstPart = Map.of(f.key(f.activity, 3), entryOf(f, 3, 1));
            f.awaitSide("a", firstPart, 30);
            f.awaitSide("b", firstPart, 30);
            awaitCheckpointRounds(first, 2);
            first.crash();

            SyncService second = f.service("all", false);
            second.start();
            f.onClose(second::shutdown);
            Map<String, String> expected = f.expectedRows();
            assertEquals(9, expected.size());
            f.awaitSide("a", expected, 60);
            f.awaitSide("b", expected, 60);
            for (String side : List.of("a", "b")) {
                assertEquals(java.util.Arrays.asList(null, null, null), f.app().side(side).getAll(
                        List.of(f.key(f.activity, 6), f.key(f.activity, 7), f.key(f.activity, 8))), "rolled-back rows on side " + side);
            }
        }
    }

    @Test
    void xa_rows_reach_the_sides_at_xa_commit_never_at_xa_rollback_and_survive_a_restart_between_prepare_and_commit() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            SyncService first = f.service("all", true);
            first.start();
            f.onClose(first::shutdown);
            SyncFixture.awaitLeading(first);
            String x = "'xa" + f.id + "c'";
            String y = "'xa" + f.id + "r'";
            f.onClose(() -> f.sql("XA ROLLBACK " + x));

            Connection preparing = f.connect();
            // closed before the rollback above, which another session can issue only once this one is gone
            f.onClose(preparing::close);
            try (Statement st = preparing.createStatement()) {
                st.execute("XA START " + x);
                f.insertUsers(preparing, 1, 3);
                st.execute("XA END " + x);
                st.execute("XA PREPARE " + x);
            }
            // the daemon reads past the prepare: a later write and heartbeats arrive, the prepared rows do not
            f.insertUsers(100, 100);
            Map<String, String> later = f.expectedRows();
            f.awaitSide("a", later, 30);
            f.awaitSide("b", later, 30);
            awaitCheckpointRounds(first, 2);
            assertPreparedRowsAbsent(f, 1, 3);
            // the checkpoint is held below the prepare, but saved on with the lag: status shows no false lag
            Thread.sleep(1500);
            StatusService.PipelineStatus a = f.app().statusService(Duration.ofSeconds(30)).status()
                    .stream().filter(s -> s.pipeline().equals(f.prefix + "a")).findFirst().orElseThrow();
            assertTrue(a.lagMillis() >= 0 && a.lagMillis() < 1000, "no growing lag behind a pending prepare: " + a);

            // restarted between XA PREPARE and XA COMMIT: the new daemon reads the prepare again
            first.shutdown();
            BinlogPosition held = f.repo().load(f.prefix + "a").orElseThrow();
            SyncService second = f.service("all", false);
            second.start();
            f.onClose(second::shutdown);
            SyncFixture.awaitLeading(second);
            f.insertUsers(101, 101);
            f.awaitSide("a", Map.of(f.key(f.activity, 101), entryOf(f, 101, 1)), 30);
            assertPreparedRowsAbsent(f, 1, 3);

            // the preparing session is gone; another one commits
            preparing.close();
            // the server detaches the prepared transaction once it has seen the disconnect, which
            // can come after close() returns: until then XA COMMIT answers ER_XAER_NOTA (1397)
            for (int attempt = 0; ; attempt++) {
                try {
                    f.sql("XA COMMIT " + x);
                    break;
                } catch (java.sql.SQLException e) {
                    if (e.getErrorCode() != 1397 || attempt >= 100) {
                        throw e;
                    }
                    Thread.sleep(50);
                }
            }
            Map<String, String> committed = f.expectedRows();
            assertEquals(5, committed.size());
            f.awaitSide("a", committed, 30);
            f.awaitSide("b", committed, 30);
            awaitCheckpointRounds(second, 2);
            assertTrue(!f.repo().load(f.prefix + "a").orElseThrow().equals(held), "the checkpoint moved past the prepare");

            try (Connection c = f.connect(); Statement st = c.createStatement()) {
                st.execute("XA START " + y);
                f.insertUsers(c, 50, 52);
                st.execute("XA END " + y);
                st.execute("XA PREPARE " + y);
                st.execute("XA ROLLBACK " + y);
            }
            f.insertUsers(102, 102);
            f.awaitSide("a", f.expectedRows(), 30);
            f.awaitSide("b", f.expectedRows(), 30);
            assertPreparedRowsAbsent(f, 50, 52);
            assertTrue(second.metrics().stream().allMatch(m -> m.xaUnmatched() == 0 && m.badData() == 0));
        }
    }

    private static void assertPreparedRowsAbsent(SyncFixture f, long from, long to) {
        for (String side : List.of("a", "b")) {
            for (long u = from; u <= to; u++) {
                assertNull(f.app().side(side).getAll(List.of(f.key(f.activity, u))).get(0), "user " + u + " on side " + side);
            }
        }
    }

    private static String entryOf(SyncFixture f, long user, long version) throws Exception {
        String e = f.expectedRows().get(f.key(f.activity, user));
        assertTrue(e.startsWith("R|" + version + "|"), e);
        return e;
    }


    /** Waits until every pipeline's checkpointer has finished {@code rounds} rounds that began after this call. */
    static void awaitCheckpointRounds(SyncService daemon, int rounds) throws InterruptedException {
        for (int r = 0; r < rounds; r++) {
            long since = System.currentTimeMillis();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (daemon.metrics().stream().anyMatch(m -> m.checkpointSavedAt() <= since)) {
                if (System.nanoTime() > until) {
                    fail("the checkpointer did not run");
                }
                Thread.sleep(20);
            }
        }
    }
}
