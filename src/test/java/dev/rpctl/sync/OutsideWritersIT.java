package dev.rpctl.sync;

import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.claim.ClaimReader;
import dev.rpctl.inspect.InspectService;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Writers that are not rpctl, by plain SQL: a key deleted and inserted again, a key moved onto a
 * deleted one, a fix by hand that does not touch the version, text that holds the entry's
 * separator. The daemon leaves both sides right, and a replay of the whole binlog changes nothing.
 */
class OutsideWritersIT {

    @Test
    void versions_rise_across_delete_reinsert_key_moves_and_fixes_by_hand_and_a_replay_changes_nothing() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            SyncService daemon = f.service("all", true);
            daemon.start();
            f.onClose(daemon::shutdown);
            awaitCheckpoints(f, null);
            BinlogPosition start = f.repo().load(f.prefix + "a").orElseThrow();

            String t = f.table;
            long a = f.activity;
            f.sql("INSERT INTO " + t + " (activity_id, user_id, amount, request_id, version) VALUES (" + a + ", 1, 100, 'old', 3)",
                    // a DBA's fix with no version change
                    "UPDATE " + t + " SET status = 'refunded' WHERE activity_id = " + a + " AND user_id = 1",
                    "DELETE FROM " + t + " WHERE activity_id = " + a + " AND user_id = 1",
                    // inserted again, as a writer that knows nothing of versions would
                    "INSERT INTO " + t + " (activity_id, user_id, amount, request_id, version) VALUES (" + a + ", 1, 250, 'new', 1)",
                    // a key moved onto a key deleted before
                    "INSERT INTO " + t + " (activity_id, user_id, amount, request_id, version) VALUES (" + a + ", 2, 20, 'two', 1)",
                    "INSERT INTO " + t + " (activity_id, user_id, amount, request_id, version) VALUES (" + a + ", 3, 30, 'three', 6)",
                    "DELETE FROM " + t + " WHERE activity_id = " + a + " AND user_id = 3",
                    "UPDATE " + t + " SET user_id = 3 WHERE activity_id = " + a + " AND user_id = 2",
                    // a writer that sets a version below the row's, and one that writes 0
                    "INSERT INTO " + t + " (activity_id, user_id, amount, request_id, version) VALUES (" + a + ", 4, 40, 'four', 9)",
                    "UPDATE " + t + " SET amount = 41, version = 2 WHERE activity_id = " + a + " AND user_id = 4",
                    "INSERT INTO " + t + " (activity_id, user_id, amount, request_id, version) VALUES (" + a + ", 5, 50, 'five', 0)",
                    // REPLACE deletes the row and inserts another: the new one starts above the old
                    "INSERT INTO " + t + " (activity_id, user_id, amount, request_id, version) VALUES (" + a + ", 6, 60, 'six', 4)",
                    "REPLACE INTO " + t + " (activity_id, user_id, amount, request_id) VALUES (" + a + ", 6, 66, 'six again')");

            assertEquals(5, version(f, 1), "3, +1 for the fix, +1 for the delete's tombstone");
            assertEquals(7, version(f, 3), "the moved row starts at the deleted key's tombstone");
            assertEquals(10, version(f, 4), "a lower version written by hand still moves the version up");
            assertEquals(1, version(f, 5));
            assertEquals(5, version(f, 6), "a REPLACE ranks above the row it replaced and its tombstone");
            Map<String, String> expected = new LinkedHashMap<>(f.expectedRows());
            expected.put(f.key(a, 2), Entry.tombstone(2).encode());
            assertTrue(expected.get(f.key(a, 1)).startsWith("R|5|250|paid|new|"), expected.toString());
            f.awaitSide("a", expected, 30);
            f.awaitSide("b", expected, 30);

            // the whole stream again from before the first write: every entry stays as it is
            daemon.shutdown();
            f.repo().save(f.prefix + "a", start, 0, -1);
            f.repo().save(f.prefix + "b", start, 0, -1);
            SyncService again = f.service("all", false);
            again.start();
            f.onClose(again::shutdown);
            String end = currentGtid(f);
            awaitCheckpoints(f, end);
            f.awaitSide("a", expected, 5);
            f.awaitSide("b", expected, 5);
            assertTrue(again.metrics().stream().allMatch(m -> m.rowsApplied() >= 9), "the replay read the rows again");
        }
    }

    @Test
    void text_with_the_entry_separator_and_any_character_round_trips_through_the_daemon_the_reader_and_inspect()
            throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            SyncService daemon = f.service("all", true);
            daemon.start();
            f.onClose(daemon::shutdown);
            awaitCheckpoints(f, null);
            String[][] odd = {{"refunded|by dba", "a|b|c|d|e"}, {"", "50%7C off"}, {"%", "tab\there\nnewline"},
                    {"paid", ""}, {"🧧 红包", "x".repeat(64)}, {"|", "|%|"}};
            try (Connection c = f.connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO " + f.table
                    + " (activity_id, user_id, amount, status, request_id, version) VALUES (?, ?, 7, ?, ?, 1)")) {
                for (int i = 0; i < odd.length; i++) {
                    ps.setLong(1, f.activity);
                    ps.setLong(2, 100 + i);
                    ps.setString(3, odd[i][0]);
                    ps.setString(4, odd[i][1]);
                    ps.executeUpdate();
                }
            }
            Map<String, String> expected = f.expectedRows();
            f.awaitSide("a", expected, 30);
            f.awaitSide("b", expected, 30);
            ClaimReader reader = new ClaimReader(f.app().protocol(), f.app().side("a"), f.app().claims());
            InspectService inspect = new InspectService(f.app().protocol(), java.util.List.copyOf(f.app().sides().values()),
                    f.app().claims(), null, null, f.app().config().mapping().leaseTtl());
            for (int i = 0; i < odd.length; i++) {
                ClaimReader.Read r = reader.read(f.activity, 100 + i);
                assertEquals(ClaimReader.Source.CACHE, r.source(), "answered from the cache: " + odd[i][1]);
                ClaimRow row = r.claim().orElseThrow();
                assertEquals(odd[i][0], row.status());
                assertEquals(odd[i][1], row.requestId());
                InspectService.Report report = inspect.inspect(100 + i, f.activity, false);
                assertTrue(report.consistent(), report.toString());
            }
        }
    }

    @Test
    void rows_at_versions_outside_the_range_are_reported_by_policy_and_never_cached() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            f.env.put("RPCTL_SYNC_ON_BAD_DATA", "warn");
            SyncService daemon = f.service("all", true);
            daemon.start();
            f.onClose(daemon::shutdown);
            awaitCheckpoints(f, null);
            // only a writer that got past the triggers can write these
            f.sql("DROP TRIGGER " + f.table + "_version_bi", "DROP TRIGGER " + f.table + "_version_ai",
                    "INSERT INTO " + f.table + " (activity_id, user_id, amount, request_id, version) VALUES (" + f.activity
                            + ", 1, 1, 'zero', 0), (" + f.activity + ", 2, 1, 'huge', " + (Entry.MAX_VERSION + 1) + "), ("
                            + f.activity + ", 3, 1, 'top', " + Entry.MAX_VERSION + ")");
            Map<String, String> top = Map.of(f.key(f.activity, 3), Entry.row(f.app().claims().find(f.activity, 3).orElseThrow()).encode());
            f.awaitSide("a", top, 30);
            f.awaitSide("b", top, 30);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!daemon.metrics().stream().allMatch(m -> m.badData() >= 2) && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            assertTrue(daemon.metrics().stream().allMatch(m -> m.badData() == 2),
                    "both out-of-range rows reported on each side: " + daemon.metrics().stream().map(SyncMetrics::badData).toList());
            for (String side : new String[] {"a", "b"}) {
                assertEquals(null, f.app().side(side).get(f.key(f.activity, 1)));
                assertEquals(null, f.app().side(side).get(f.key(f.activity, 2)));
            }
            assertTrue(daemon.healthy());
        }
    }

    @Test
    void a_claim_written_by_plain_sql_is_added_to_the_bloom_filter_by_the_daemon() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            SyncService daemon = f.service("all", true);
            daemon.start();
            f.onClose(daemon::shutdown);
            awaitCheckpoints(f, null);
            f.app().warmService("all").buildBloom(f.activity, 1000, (n, s) -> { });
            f.insertUsers(1, 20);
            Map<String, String> expected = f.expectedRows();
            f.awaitSide("a", expected, 30);
            f.awaitSide("b", expected, 30);
            for (String side : new String[] {"a", "b"}) {
                java.util.List<dev.rpctl.protocol.BloomFilters.Answer> answers = f.app().protocol().blooms()
                        .check(f.app().side(side), f.activity, java.util.stream.LongStream.rangeClosed(1, 20).boxed().toList());
                assertTrue(answers.stream().allMatch(x -> x == dev.rpctl.protocol.BloomFilters.Answer.MAYBE), side + ": " + answers);
            }
        }
    }

    private static long version(SyncFixture f, long user) throws Exception {
        try (Connection c = f.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT version FROM " + f.table + " WHERE activity_id = " + f.activity
                     + " AND user_id = " + user)) {
            assertTrue(rs.next(), "user " + user + " has a row");
            return rs.getLong(1);
        }
    }

    private static String currentGtid(SyncFixture f) throws Exception {
        try (Connection c = f.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT @@gtid_binlog_pos")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Waits until both pipelines have a checkpoint, or one at or past the given GTID position (domain 0). */
    private static void awaitCheckpoints(SyncFixture f, String gtid) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long want = gtid == null ? 0 : seq(gtid);
        while (System.nanoTime() < until) {
            boolean ok = true;
            for (String side : new String[] {"a", "b"}) {
                BinlogPosition p = f.repo().load(f.prefix + side).orElse(null);
                ok &= p != null && (gtid == null || seq(p.gtid()) >= want);
            }
            if (ok) {
                return;
            }
            Thread.sleep(100);
        }
        fail("the checkpoints did not reach " + gtid);
    }

    private static long seq(String gtid) {
        for (String part : gtid.split(",")) {
            String[] dsn = part.trim().split("-");
            if (dsn.length == 3 && dsn[0].equals("0")) {
                return Long.parseLong(dsn[2]);
            }
        }
        return 0;
    }
}
