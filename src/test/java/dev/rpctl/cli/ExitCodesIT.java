package dev.rpctl.cli;

import dev.rpctl.app.App;
import dev.rpctl.Rpctl;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.ScratchMariadb;
import dev.rpctl.Services;
import dev.rpctl.sync.SyncRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Everything a user can cause exits with its documented code and one line naming it; 70 is for bugs. */
class ExitCodesIT {
    @TempDir
    Path dir;

    private final Rpctl rpctl = Rpctl.withServices();

    /** The exit code is the expected one and stderr is one line holding every fragment. */
    static void fails(Rpctl.Result r, int code, String... fragments) {
        assertEquals(code, r.exitCode(), r::toString);
        assertEquals(1, r.err().lines().count(), r::toString);
        for (String f : fragments) {
            assertTrue(r.err().contains(f), () -> "no \"" + f + "\" in " + r);
        }
        assertFalse(r.err().contains("internal error"), r::toString);
    }

    static Connection root() throws Exception {
        return Services.root();
    }

    private String activity(int count, String... more) {
        String id = Long.toString(Services.freshActivityId());
        String[] args = new String[] {"activity", "create", "--activity", id, "--count", Integer.toString(count),
                "--amount", Integer.toString(count * 100)};
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.Arrays.stream(more)).toArray(String[]::new);
        Rpctl.Result r = rpctl.run(all);
        assertEquals(0, r.exitCode(), r::toString);
        return id;
    }

    @Test
    void kafka_mode_with_no_broker_answering_exits_69_naming_it_and_the_key_to_check() throws Exception {
        int port;
        int metrics;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0); java.net.ServerSocket m = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
            metrics = m.getLocalPort();
        }
        Rpctl.Result r = rpctl.with("RPCTL_KAFKA_BOOTSTRAP", "127.0.0.1:" + port)
                .run("sync-daemon", "--source", "kafka", "--side", "a", "--metrics", "127.0.0.1:" + metrics);
        fails(r, 69, "kafka at 127.0.0.1:" + port + " is unreachable", "kafka.bootstrap");
    }

    @Test
    void kafka_mode_with_a_bootstrap_that_resolves_to_nothing_exits_78_naming_kafka_bootstrap() {
        Rpctl.Result r = rpctl.with("RPCTL_KAFKA_BOOTSTRAP", "no-such-broker.invalid:9092")
                .run("sync-daemon", "--source", "kafka", "--side", "a");
        fails(r, 78, "kafka.bootstrap \"no-such-broker.invalid:9092\" is not usable", "bootstrap");
    }

    @Test
    void kafka_mode_with_a_topic_the_broker_refuses_to_create_exits_78_naming_the_topic_and_the_key() throws Exception {
        // the broker refuses a topic whose name differs from an existing one's only by '.' and '_'
        String id = Long.toString(Services.freshActivityId());
        String taken = "rpctl.it." + id + ".collide";
        String wanted = "rpctl_it_" + id + "_collide";
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", Services.env().get("RPCTL_KAFKA_BOOTSTRAP"));
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(p)) {
            admin.createTopics(java.util.List.of(new org.apache.kafka.clients.admin.NewTopic(taken, 1, (short) 1)))
                    .all().get(30, java.util.concurrent.TimeUnit.SECONDS);
            try {
                Rpctl.Result r = rpctl.with("RPCTL_KAFKA_TOPIC", wanted).run("sync-daemon", "--source", "kafka", "--side", "a");
                fails(r, 78, "topic " + wanted + " does not exist", "refused to create it", "collides", "kafka.topic");
            } finally {
                admin.deleteTopics(java.util.List.of(taken)).all().get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void sync_daemon_with_both_kafka_ends_or_an_unknown_format_is_a_usage_error() {
        fails(rpctl.run("sync-daemon", "--sink", "kafka", "--source", "kafka"), 64, "--sink kafka", "two daemons");
        fails(rpctl.run("sync-daemon", "--source", "kafka", "--format", "avro"), 64, "unknown --format avro",
                "rpctl, debezium, maxwell or canal");
    }

    @Test
    void status_against_a_server_with_the_binlog_off_exits_78_as_the_daemon_does() throws Exception {
        try (ScratchMariadb m = ScratchMariadb.start(dir, "--skip-log-bin")) {
            Rpctl.Result r = rpctl.with("RPCTL_MYSQL_PORT", Integer.toString(m.port()))
                    .with("RPCTL_MYSQL_USER", "root").with("RPCTL_MYSQL_PASSWORD", "").run("status");
            fails(r, 78, "has the binary log off", "log-bin");
        }
    }

    @Test
    void a_claim_against_a_statement_binlog_exits_78_naming_binlog_format_row() throws Exception {
        String id = activity(10);
        try (Connection c = root(); Statement st = c.createStatement()) {
            st.execute("SET GLOBAL binlog_format = 'STATEMENT'");
            try {
                fails(rpctl.run("claim", "--activity", id, "--user", "1"), 78, "binlog_format=ROW");
            } finally {
                st.execute("SET GLOBAL binlog_format = 'ROW'");
            }
        }
    }

    @Test
    void a_wrong_redis_password_exits_78_login_refused_naming_the_side() {
        Rpctl.Result r = rpctl.with("RPCTL_SIDE_B_PASSWORD", "wrong").run("inspect", "--user", "1", "--activity", "1");
        fails(r, 78, "redis side b at " + Services.env().get("RPCTL_SIDE_B_NODES"), "login refused", "side-b.password");
    }

    @Test
    void a_wrong_mysql_password_exits_78_login_refused_not_unreachable() {
        Rpctl.Result r = rpctl.with("RPCTL_MYSQL_PASSWORD", "wrong").run("activity", "show", "--activity", "1");
        fails(r, 78, "login refused for user 'rpctl'", "mysql.password");
        assertFalse(r.err().contains("unreachable"), r::toString);
    }

    @Test
    void an_activity_name_longer_than_the_column_exits_64() {
        Rpctl.Result r = rpctl.run("activity", "create", "--activity", Long.toString(Services.freshActivityId()),
                "--count", "1", "--amount", "1", "--name", "x".repeat(300));
        fails(r, 64, "--name is 300 characters long");
    }

    @Test
    void a_user_id_below_one_exits_64_as_an_activity_id_does() {
        fails(rpctl.run("claim", "--activity", "1", "--user", "0"), 64, "--user must be a positive id, got 0");
        fails(rpctl.run("claim", "--activity", "1", "--user=-3"), 64, "--user must be a positive id, got -3");
        fails(rpctl.run("inspect", "--user=-3"), 64, "--user must be a positive id, got -3");
    }

    @Test
    void shards_outside_one_to_1024_exit_64() {
        String id = Long.toString(Services.freshActivityId());
        fails(rpctl.run("activity", "create", "--activity", id, "--count", "10", "--amount", "100", "--shards", "0"),
                64, "--shards must be 1-1024, got 0");
        fails(rpctl.run("activity", "create", "--activity", id, "--count", "10000", "--amount", "10000", "--shards", "5000"),
                64, "--shards must be 1-1024, got 5000");
    }

    @Test
    void creating_an_activity_again_with_other_shards_is_refused_not_unchanged() {
        String id = activity(10, "--shards", "2");
        Rpctl.Result r = rpctl.run("activity", "create", "--activity", id, "--count", "10", "--amount", "1000", "--shards", "5");
        fails(r, 65, "exists with another budget", "2 shards");
        Rpctl.Result same = rpctl.run("activity", "create", "--activity", id, "--count", "10", "--amount", "1000", "--shards", "2");
        assertEquals(0, same.exitCode(), same::toString);
        assertTrue(same.err().contains("unchanged"), same::toString);
    }

    @Test
    void a_table_the_binlog_names_but_the_schema_lacks_is_an_old_schema_not_a_shape_change() {
        try (App app = Services.app()) {
            SyncRepository repo = new SyncRepository(app.primary(), app.config().mapping());
            RpctlException e = assertThrows(RpctlException.class, () -> repo.columns("rpctl_heartbeat_of_a_newer_rpctl"));
            assertEquals(78, e.exitCode().code());
            assertTrue(e.getMessage().contains("run 'rpctl db init'"), e.getMessage());
        }
    }

    @Test
    void a_claim_whose_key_holds_an_undecodable_entry_is_made_and_exits_65_naming_it_under_fail() {
        String id = activity(10);
        String key;
        try (App app = Services.app()) {
            key = app.protocol().key(Long.parseLong(id), 4);
            dev.rpctl.cache.RawRedis.call(app.side("b"), j -> j.set(key, "garbage"));
        }
        Rpctl.Result r = rpctl.run("claim", "--activity", id, "--user", "4");
        fails(r, 65, "side b: key " + key + " holds an undecodable cache entry", "rpctl inspect --key " + key + " --repair");
        assertTrue(r.out().contains("claimed"), r::toString);
        Rpctl.Result again = rpctl.run("claim", "--activity", id, "--user", "4");
        assertEquals(0, again.exitCode(), "a retry is the claim's duplicate: " + again);
    }
}
