package dev.rpctl.cli;

import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an operator does during an event: list, pause, resume, close and extend activities; tidy pipelines. */
class OperationsIT {
    private final Rpctl rpctl = Rpctl.withServices();

    private static String field(Rpctl.Result r, String name) {
        return r.out().lines().filter(l -> l.startsWith(name + "  ")).findFirst().orElseThrow(() -> new AssertionError(r))
                .substring(name.length()).strip();
    }

    private String create(String... more) {
        String id = Long.toString(Services.freshActivityId());
        String[] base = {"activity", "create", "--activity", id, "--count", "1", "--amount", "100"};
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(more)).toArray(String[]::new);
        Rpctl.Result r = rpctl.run(args);
        assertEquals(0, r.exitCode(), r::toString);
        return id;
    }

    @Test
    void activity_show_tells_not_started_ended_and_sold_out() {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        String later = create("--starts", now.plus(1, ChronoUnit.DAYS).toString());
        assertEquals("not started", field(rpctl.run("activity", "show", "--activity", later), "state"));
        String over = create("--starts", now.minus(2, ChronoUnit.DAYS).toString(), "--ends", now.minus(1, ChronoUnit.DAYS).toString());
        assertEquals("ended", field(rpctl.run("activity", "show", "--activity", over), "state"));
        String one = create();
        assertEquals("open", field(rpctl.run("activity", "show", "--activity", one), "state"));
        assertEquals(0, rpctl.run("claim", "--activity", one, "--user", "1").exitCode());
        assertEquals("sold out", field(rpctl.run("activity", "show", "--activity", one), "state"));
    }

    @Test
    void a_paused_activity_refuses_claims_until_resumed_and_a_closed_one_for_good() {
        String id = create();
        Rpctl.Result paused = rpctl.run("activity", "pause", "--activity", id);
        assertEquals(0, paused.exitCode(), paused::toString);
        assertEquals("paused", field(paused, "state"));
        assertEquals(1, rpctl.run("claim", "--activity", id, "--user", "1").exitCode());
        assertTrue(rpctl.run("activity", "pause", "--activity", id).err().contains("unchanged"));
        assertEquals(0, rpctl.run("activity", "resume", "--activity", id).exitCode());
        assertEquals(0, rpctl.run("claim", "--activity", id, "--user", "1").exitCode());
        assertEquals(0, rpctl.run("activity", "close", "--activity", id).exitCode());
        Rpctl.Result resume = rpctl.run("activity", "resume", "--activity", id);
        assertEquals(64, resume.exitCode(), resume::toString);
        assertTrue(resume.err().contains("closed, which is final"), resume::toString);
    }

    @Test
    void extend_moves_the_end_and_an_ended_activity_opens_again() {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        String id = create("--starts", now.minus(2, ChronoUnit.DAYS).toString(), "--ends", now.minus(1, ChronoUnit.DAYS).toString());
        Rpctl.Result r = rpctl.run("activity", "extend", "--activity", id, "--ends", now.plus(1, ChronoUnit.DAYS).toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("open", field(r, "state"));
        Rpctl.Result before = rpctl.run("activity", "extend", "--activity", id, "--ends", now.minus(3, ChronoUnit.DAYS).toString());
        assertEquals(64, before.exitCode(), before::toString);
    }

    @Test
    void activity_list_shows_the_newest_first_with_their_state() {
        String a = create();
        Rpctl.Result r = rpctl.run("activity", "list", "--limit", "100000");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("ACTIVITY"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith(a + " ") && l.contains("open")), r.out());
    }

    @Test
    void status_hides_pipelines_of_sides_not_configured_and_pipeline_drop_retires_one() throws Exception {
        String gone = "gone" + Long.toString(Services.freshActivityId(), 36) + "-a";
        try (Connection c = ExitCodesIT.root(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO rpctl_checkpoint (pipeline, binlog_file, binlog_position) VALUES ('" + gone + "', 'binlog.000000', 4)");
        }
        Rpctl.Result r = rpctl.run("status");
        assertFalse(r.out().contains(gone), r::toString);
        assertTrue(r.out().contains("hidden; --all shows them"), r::toString);
        Rpctl.Result all = rpctl.run("status", "--all");
        assertTrue(all.out().lines().anyMatch(l -> l.startsWith(gone + " ") && l.contains("purged")), all::toString);
        Rpctl.Result only = rpctl.run("status", "--pipeline", gone);
        assertEquals(1, only.exitCode(), "a pipeline named is judged: this one is purged: " + only);
        assertEquals(1, only.out().lines().filter(l -> l.startsWith(gone + " ")).count(), only::toString);
        assertFalse(only.out().lines().anyMatch(l -> l.startsWith("a ") || l.startsWith("b ")), only::toString);
        Rpctl.Result list = rpctl.run("pipeline", "list");
        assertEquals(0, list.exitCode(), list::toString);
        assertTrue(list.out().lines().anyMatch(l -> l.startsWith(gone + " ") && l.contains(" no ") && l.contains("purged")), list::toString);
        Rpctl.Result drop = rpctl.run("pipeline", "drop", gone);
        assertEquals(0, drop.exitCode(), drop::toString);
        assertEquals("dropped pipeline " + gone + " (its checkpoint)", drop.out().strip());
        assertFalse(rpctl.run("pipeline", "list").out().contains(gone));
        Rpctl.Result again = rpctl.run("pipeline", "drop", gone);
        assertEquals(64, again.exitCode(), again::toString);
        assertTrue(again.err().contains("no pipeline " + gone + " has a checkpoint; 'rpctl pipeline list' lists them"), again::toString);
        assertEquals(64, rpctl.run("status", "--pipeline", gone).exitCode());
    }

    @Test
    void status_shows_the_binlog_settings_and_no_purge_warning_for_the_file_being_written() throws Exception {
        String table = "it_ckpt_" + Long.toString(Services.freshActivityId(), 36);
        Rpctl own = rpctl.with("RPCTL_MAPPING_CHECKPOINT_TABLE", table);
        assertEquals(0, own.run("db", "init").exitCode());
        try (Connection c = ExitCodesIT.root(); Statement st = c.createStatement()) {
            java.sql.ResultSet rs = st.executeQuery("SHOW MASTER STATUS");
            rs.next();
            String active = rs.getString(1);
            long position = rs.getLong(2);
            st.execute("INSERT INTO " + table + " (pipeline, binlog_file, binlog_position, lag_millis) VALUES ('a', '"
                    + active + "', " + position + ", 3)");
            Rpctl.Result r = own.run("status");
            assertTrue(r.out().startsWith("binlog: format ROW, row image FULL, writing " + active), r::toString);
            String line = r.out().lines().filter(l -> l.startsWith("a ")).findFirst().orElseThrow(() -> new AssertionError(r));
            assertFalse(line.contains("next purge breaks it"), line);
            assertTrue(line.matches(".*\\d+ ms.*"), line);
            st.execute("DROP TABLE " + table);
        }
    }
}
