package dev.rpctl.cli;

import dev.rpctl.Rpctl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliTest {
    @TempDir
    Path dir;

    Rpctl rpctl() {
        return Rpctl.isolated(dir);
    }

    @Test
    void help_lists_every_subcommand_with_a_description() {
        Rpctl.Result r = rpctl().run("--help");
        assertEquals(0, r.exitCode(), r::toString);
        for (String cmd : new String[] {"config", "db", "activity", "claim", "inspect"}) {
            assertTrue(r.out().lines().anyMatch(l -> l.matches("\\s+" + cmd + "\\s+\\S.*")), cmd + " missing:\n" + r.out());
        }
        assertTrue(r.out().contains("78  configuration error"), r.out());
    }

    @Test
    void version_prints_the_version() {
        Rpctl.Result r = rpctl().run("--version");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().startsWith("rpctl "), r.out());
    }

    @Test
    void unknown_option_is_a_usage_error_with_one_hint() {
        Rpctl.Result r = rpctl().run("db", "init", "--frobnicate");
        assertEquals(64, r.exitCode(), r::toString);
        assertTrue(r.err().startsWith("rpctl: Unknown option: '--frobnicate'"), r.err());
        assertTrue(r.err().contains("Try 'rpctl db init --help'"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void missing_command_is_a_usage_error() {
        assertEquals(64, rpctl().run().exitCode());
        assertEquals(64, rpctl().run("nosuch").exitCode());
    }

    @Test
    void global_options_are_accepted_after_the_subcommand() {
        Path cfg = dir.resolve("c.yaml");
        Rpctl.Result r = rpctl().run("config", "check", "--config", cfg.toString(), "--json", "--no-color");
        assertEquals(78, r.exitCode(), r::toString);
        assertTrue(r.err().contains(cfg.toString()), r.err());
    }

    @Test
    void broken_config_lists_every_problem_with_its_line_and_exits_78() throws Exception {
        Path cfg = dir.resolve("broken.yaml");
        Files.writeString(cfg, String.join("\n",
                "mysql:",
                "  port: abc",
                "  pool-size: 9999",
                "side-a:",
                "  mode: clustr",
                "sync:",
                "  lanez: 4",
                ""));
        Rpctl.Result r = rpctl().run("--config", cfg.toString(), "config", "check");
        assertEquals(78, r.exitCode(), r::toString);
        String[] lines = r.err().strip().split("\n");
        assertEquals(4, lines.length, r.err());
        assertTrue(lines[0].contains(cfg + ":2: mysql.port:"), lines[0]);
        assertTrue(lines[1].contains(cfg + ":3: mysql.pool-size:"), lines[1]);
        assertTrue(lines[2].contains(cfg + ":5: side-a.mode:"), lines[2]);
        assertTrue(lines[3].contains(cfg + ":7: sync.lanez:") && lines[3].contains("sync.lanes"), lines[3]);
        assertEquals("", r.out());
    }

    @Test
    void valid_config_checks_ok() throws Exception {
        Path cfg = dir.resolve("ok.yaml");
        Files.writeString(cfg, "mysql:\n  port: 13306\n");
        Rpctl.Result r = rpctl().run("--config", cfg.toString(), "config", "check");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("ok"), r.out());
    }

    @Test
    void a_command_line_in_an_at_file_runs_as_if_typed() throws Exception {
        Path cfg = dir.resolve("ok.yaml");
        Files.writeString(cfg, "mysql:\n  port: 13306\n");
        Path args = Files.writeString(dir.resolve("args.txt"), "--config " + cfg + "\nconfig check\n");
        Rpctl.Result r = rpctl().run("@" + args);
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("ok"), r.out());
    }

    @Test
    void help_of_a_subcommand_shows_its_own_options() {
        Rpctl.Result r = rpctl().run("help", "inspect");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("--user"), r.out());
        Rpctl.Result direct = rpctl().run("inspect", "--help");
        assertEquals(r.out(), direct.out());
    }

    @Test
    void config_show_masks_secrets_and_names_origins() throws Exception {
        Path cfg = dir.resolve("s.yaml");
        Files.writeString(cfg, "mysql:\n  password: hunter2\n  port: 3307\n");
        Rpctl.Result r = rpctl().with("RPCTL_MYSQL_HOST", "db.internal").run("--config", cfg.toString(), "config", "show");
        assertEquals(0, r.exitCode(), r::toString);
        assertFalse(r.out().contains("hunter2"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("mysql.host") && l.contains("db.internal") && l.contains("env")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("mysql.port") && l.contains("3307") && l.contains("file")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("mysql.pool-size") && l.contains("default")), r.out());
    }

    @Test
    void mysql_down_exits_69_naming_the_address() {
        Rpctl.Result r = rpctl().with("RPCTL_MYSQL_PORT", "1").run("db", "init");
        assertEquals(69, r.exitCode(), r::toString);
        assertTrue(r.err().startsWith("rpctl: mysql primary at 127.0.0.1:1 is unreachable"), r.err());
        assertEquals(1, r.err().strip().split("\n").length, r.err());
    }

    @Test
    void redis_down_exits_69_naming_the_side() {
        Rpctl.Result r = rpctl().with("RPCTL_SIDE_A_NODES", "127.0.0.1:1").with("RPCTL_MYSQL_PORT", "1")
                .run("inspect", "--user", "1", "--activity", "1");
        assertEquals(69, r.exitCode(), r::toString);
    }

    @Test
    void bad_request_id_is_a_usage_error() {
        Rpctl.Result r = rpctl().with("RPCTL_MYSQL_PORT", "1").run("claim", "--activity", "1", "--user", "2", "--request-id", "a|b");
        assertEquals(64, r.exitCode(), r::toString);
        assertTrue(r.err().contains("--request-id"), r.err());
    }

    @Test
    void load_without_duration_or_count_is_a_usage_error() {
        Rpctl.Result r = rpctl().run("claim", "--activity", "1", "--users", "1-10");
        assertEquals(64, r.exitCode(), r::toString);
        assertTrue(r.err().contains("--duration"), r.err());
    }

    @Test
    void a_load_flag_with_one_claim_is_a_usage_error_before_any_server_is_asked() {
        Rpctl.Result r = rpctl().with("RPCTL_MYSQL_PORT", "1").run("claim", "--activity", "1", "--user", "2", "--count", "5");
        assertEquals(64, r.exitCode(), r::toString);
        assertTrue(r.err().contains("go with --users, not --user"), r.err());
    }

    @Test
    void a_bad_load_duration_is_a_usage_error_naming_the_flag() {
        Rpctl.Result r = rpctl().with("RPCTL_MYSQL_PORT", "1").run("claim", "--activity", "1", "--users", "1-10", "--duration", "soon");
        assertEquals(64, r.exitCode(), r::toString);
        assertTrue(r.err().startsWith("rpctl: --duration must be a duration like 250ms, 30s, 5m or 1h, got \"soon\""), r.err());
    }

    @Test
    void every_config_key_is_a_flag_of_every_command_hidden_from_the_short_help() {
        Rpctl.Result r = rpctl().run("config", "show", "--mysql-pool-size", "7", "--sync-lanes", "3");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().lines().anyMatch(l -> l.matches("mysql\\.pool-size\\s+7\\s+flag \\(--mysql-pool-size\\)")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("sync\\.lanes\\s+3\\s+flag \\(--sync-lanes\\)")), r.out());
        Rpctl.Result before = rpctl().run("--side-a-pool-size", "9", "config", "show");
        assertTrue(before.out().lines().anyMatch(l -> l.matches("side-a\\.pool-size\\s+9\\s+flag.*")), before.out());
        assertFalse(rpctl().run("config", "show", "--help").out().contains("--mysql-pool-size"));
        assertTrue(rpctl().run("--help").out().contains("--mysql-pool-size N sets"));
    }

    @Test
    void a_bad_value_of_a_generated_flag_names_it_and_exits_78() {
        Rpctl.Result r = rpctl().run("config", "check", "--mysql-pool-size", "0");
        assertEquals(78, r.exitCode(), r::toString);
        assertTrue(r.err().startsWith("rpctl: flag --mysql-pool-size: mysql.pool-size:"), r.err());
    }

    @Test
    void a_bad_metrics_address_names_the_flag_the_user_typed() {
        Rpctl.Result r = rpctl().run("sync-daemon", "--metrics", "nonsense");
        assertEquals(78, r.exitCode(), r::toString);
        assertTrue(r.err().startsWith("rpctl: flag --metrics: metrics.address:"), r.err());
    }

    @Test
    void an_empty_no_color_leaves_colour_on_and_a_set_one_turns_it_off() {
        assertTrue(new RpctlCommand(java.util.Map.of("NO_COLOR", ""), dir, true).colorOn());
        assertFalse(new RpctlCommand(java.util.Map.of("NO_COLOR", "1"), dir, true).colorOn());
        assertTrue(new RpctlCommand(java.util.Map.of(), dir, true).colorOn());
    }
}
