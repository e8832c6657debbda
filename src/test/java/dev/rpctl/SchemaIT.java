package dev.rpctl;

import org.junit.jupiter.api.Test;

import dev.rpctl.app.App;

import java.sql.Connection;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchemaIT {
    @Test
    void db_init_twice_creates_then_reports_up_to_date() {
        String suffix = Long.toString(Services.freshActivityId(), 36);
        Rpctl rpctl = Rpctl.withServices()
                .with("RPCTL_MAPPING_ACTIVITY_TABLE", "it_act_" + suffix)
                .with("RPCTL_MAPPING_CLAIM_TABLE", "it_claim_" + suffix)
                .with("RPCTL_MAPPING_CHECKPOINT_TABLE", "it_ckpt_" + suffix)
                .with("RPCTL_MAPPING_HEARTBEAT_TABLE", "it_beat_" + suffix);
        Rpctl.Result first = rpctl.run("db", "init");
        assertEquals(0, first.exitCode(), first::toString);
        // the test's own tables; rpctl_reconcile and rpctl_claim_stats are shared by every mapping
        assertEquals(6, first.out().lines().filter(l -> l.contains(suffix) && l.endsWith("created")).count(), first.out());
        assertTrue(first.out().lines().anyMatch(l -> l.contains("added trigger it_claim_" + suffix + "_version_ad")), first.out());
        Rpctl.Result second = rpctl.run("db", "init");
        assertEquals(0, second.exitCode(), second::toString);
        // the six tables, the two shared ones and the claim table's triggers
        assertEquals(9, second.out().lines().filter(l -> l.endsWith("up to date")).count(), second.out());
    }

    @Test
    void db_init_adds_what_an_older_schema_lacks() throws Exception {
        String claim = "it_claim_" + Long.toString(Services.freshActivityId(), 36);
        Rpctl rpctl = initThen("RPCTL_MAPPING_CLAIM_TABLE", claim, "ALTER TABLE " + claim + " DROP KEY idx_user, DROP COLUMN request_id");
        Rpctl.Result r = rpctl.run("db", "init");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith(claim) && l.contains("column request_id") && l.contains("index idx_user")), r.out());
    }

    @Test
    void a_schema_older_than_rpctl_is_refused_with_78_and_db_init_named() throws Exception {
        String checkpoint = "it_ckpt_" + Long.toString(Services.freshActivityId(), 36);
        Rpctl rpctl = initThen("RPCTL_MAPPING_CHECKPOINT_TABLE", checkpoint,
                "ALTER TABLE " + checkpoint + " DROP COLUMN lag_millis",
                "INSERT INTO " + checkpoint + " (pipeline, binlog_file, binlog_position) VALUES ('a', 'f.000001', 4)");
        Rpctl.Result r = rpctl.run("status");
        assertEquals(78, r.exitCode(), r::toString);
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("lag_millis") && r.err().contains("run 'rpctl db init'"), r.err());
        assertEquals(0, rpctl.run("db", "init").exitCode());
        Rpctl.Result after = rpctl.run("status");
        // upgraded: the made-up checkpoint is now reported, as one whose binlog file is gone
        assertEquals(1, after.exitCode(), after::toString);
        assertTrue(after.out().lines().anyMatch(l -> l.startsWith("a ") && l.contains("purged")), after.out());
    }

    @Test
    void claims_refuse_with_78_while_a_version_trigger_is_missing_and_db_init_puts_it_back() throws Exception {
        String claim = "it_claim_" + Long.toString(Services.freshActivityId(), 36);
        Rpctl rpctl = initThen("RPCTL_MAPPING_CLAIM_TABLE", claim, "DROP TRIGGER " + claim + "_version_bu");
        String activity = Long.toString(Services.freshActivityId());
        assertEquals(0, rpctl.run("activity", "create", "--activity", activity, "--count", "10", "--amount", "1000").exitCode());
        Rpctl.Result r = rpctl.run("claim", "--activity", activity, "--user", "1");
        assertEquals(78, r.exitCode(), r::toString);
        assertTrue(r.err().contains(claim + "_version_bu") && r.err().contains("run 'rpctl db init'"), r.err());
        Rpctl.Result daemon = rpctl.run("sync-daemon", "--no-wait", "--pipeline-prefix", "it-" + claim + "-");
        assertEquals(78, daemon.exitCode(), daemon::toString);
        assertTrue(daemon.err().contains(claim + "_version_bu"), daemon.err());
        Rpctl.Result status = rpctl.run("status");
        assertEquals(1, status.exitCode(), status::toString);
        assertTrue(status.out().contains(claim + "_version_bu") && status.out().contains("run 'rpctl db init'"), status.out());
        Rpctl.Result init = rpctl.run("db", "init");
        assertTrue(init.out().contains("added trigger " + claim + "_version_bu"), init.out());
        assertTrue(rpctl.run("--json", "status").out().replaceAll("\\s", "").contains("\"missing_triggers\":[]"));
        try (App app = Services.app(); Connection c = app.primary().connection(); Statement st = c.createStatement()) {
            st.execute("DROP TABLE " + claim + ", " + claim + "_tombstone");
        }
    }

    @Test
    void a_sync_daemon_on_a_schema_without_its_heartbeat_table_exits_78_naming_db_init() throws Exception {
        String beat = "it_beat_" + Long.toString(Services.freshActivityId(), 36);
        Rpctl rpctl = initThen("RPCTL_MAPPING_HEARTBEAT_TABLE", beat, "DROP TABLE " + beat);
        Rpctl.Result r = rpctl.run("sync-daemon", "--no-wait", "--pipeline-prefix", "it-" + beat + "-");
        assertEquals(78, r.exitCode(), r::toString);
        assertTrue(r.err().contains("table " + beat + " does not exist") && r.err().contains("run 'rpctl db init'"), r.err());
    }

    /** Runs 'db init' with one table renamed to a fresh one, then the statements: an older schema to upgrade. */
    private static Rpctl initThen(String variable, String table, String... statements) throws Exception {
        Rpctl rpctl = Rpctl.withServices().with(variable, table);
        assertEquals(0, rpctl.run("db", "init").exitCode());
        try (App app = Services.app(); Connection c = app.primary().connection(); Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
        return rpctl;
    }
}
