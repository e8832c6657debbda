package dev.rpctl.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The key table's options are added to the command line only when an argument may be one of them. */
class KeyOptionsTest {
    private static CommandLine.Model.CommandSpec spec() {
        return Cli.model(new RpctlCommand(Map.of(), Path.of("."), false)).getCommandSpec();
    }

    @Test
    void declared_options_and_values_need_no_key_option() {
        assertFalse(Cli.mayNameAKey(spec(), "status"));
        assertFalse(Cli.mayNameAKey(spec(), "--config", "f.yaml", "--json", "status", "--stale-after", "30s"));
        assertFalse(Cli.mayNameAKey(spec(), "inspect", "--user=1", "--activity", "7"));
        assertFalse(Cli.mayNameAKey(spec(), "--help"));
        assertFalse(Cli.mayNameAKey(spec(), "warm", "--activity", "1", "--users-file", "-", "--", "--not-an-option"));
    }

    @Test
    void an_undeclared_long_option_may_be_a_key_or_a_typo_of_one() {
        assertTrue(Cli.mayNameAKey(spec(), "config", "show", "--mysql-pool-size", "7"));
        assertTrue(Cli.mayNameAKey(spec(), "--side-a-pool-size=9", "config", "show"));
        assertTrue(Cli.mayNameAKey(spec(), "status", "--mysql-pool-sise", "7"));
    }

    @Test
    void a_key_option_sets_its_key_before_and_after_the_subcommand() {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int code = Cli.run(new java.io.PrintWriter(out), new java.io.PrintWriter(err), Map.of(), Path.of("/nonexistent"), false,
                "--mysql-pool-size", "7", "config", "show", "--sync-lanes=3");
        assertEquals(0, code, err::toString);
        assertTrue(out.toString().lines().anyMatch(l -> l.matches("mysql\\.pool-size\\s+7\\s+flag \\(--mysql-pool-size\\)")), out::toString);
        assertTrue(out.toString().lines().anyMatch(l -> l.matches("sync\\.lanes\\s+3\\s+flag \\(--sync-lanes\\)")), out::toString);
    }
}
