package dev.rpctl.cli;

import dev.rpctl.Main;
import org.jline.terminal.impl.DumbTerminal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shell without servers: scripts on standard input, and a session on a dumb terminal. */
class ShellTest {
    @TempDir
    Path dir;

    private record Result(int exitCode, String out, String err) {
    }

    private Result script(String script, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] line = new String[args.length + 1];
        line[0] = "shell";
        System.arraycopy(args, 0, line, 1, args.length);
        int code = Main.run(new ByteArrayInputStream(script.getBytes(StandardCharsets.UTF_8)), new PrintWriter(out), new PrintWriter(err),
                Map.of(), dir, line);
        return new Result(code, out.toString(), err.toString());
    }

    private static final String OK = "ok: defaults and environment (no file)\n";

    @Test
    void a_script_runs_line_by_line_skipping_blanks_and_comments_and_stops_at_the_first_failure_with_its_code() {
        Result r = script("config check\n\n# the next line fails\nconfig check --mysql-port 0\nconfig check\n");
        assertEquals(78, r.exitCode(), r.toString());
        assertEquals(OK, r.out());
        assertTrue(r.err().startsWith("rpctl: flag --mysql-port: mysql.port:"), r.err());
    }

    @Test
    void keep_going_runs_every_line_and_exits_with_the_first_failure() {
        Result r = script("config check --mysql-port 0\nnosuch\nrpctl config check\n", "--keep-going");
        assertEquals(78, r.exitCode(), r.toString());
        assertEquals(OK, r.out());
        assertTrue(r.err().contains("Unmatched argument at index 0: 'nosuch'"), r.err());
    }

    @Test
    void exit_ends_a_script_and_a_script_that_succeeds_exits_0() {
        Result r = script("config check\nexit\nconfig check --mysql-port 0\n");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(OK, r.out());
    }

    @Test
    void the_shells_global_options_apply_to_every_line_and_a_line_may_add_its_own() {
        Result r = script("config check\nconfig check --mysql-port 0\n", "--json", "--keep-going");
        assertEquals(78, r.exitCode(), r.toString());
        assertTrue(r.out().startsWith("{\n  \"schema\" : 1,\n  \"valid\" : true"), r.out());
        assertTrue(r.out().contains("\"code\" : 78"), r.out());
    }

    @Test
    void a_line_with_a_key_of_its_own_keeps_the_shells_keys_under_it() {
        Result r = script("config show --mysql-pool-size 7\nconfig show\n", "--mysql-port", "13306");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(2, r.out().lines().filter(l -> l.matches("mysql\\.port\\s+13306\\s+flag.*")).count(), r.out());
        assertEquals(1, r.out().lines().filter(l -> l.matches("mysql\\.pool-size\\s+7\\s+flag.*")).count(), r.out());
    }

    @Test
    void rpctl_alone_on_a_line_is_a_usage_error_as_on_the_command_line() {
        Result r = script("rpctl\n");
        assertEquals(64, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("rpctl: missing command"), r.err());
    }

    @Test
    void a_shell_inside_the_shell_is_refused() {
        Result r = script("shell\n");
        assertEquals(64, r.exitCode(), r.toString());
        assertEquals("rpctl: already in the shell; type the command alone, e.g. 'inspect --user 42'\n", r.err());
    }

    @Test
    void on_a_dumb_terminal_it_prompts_runs_each_line_and_keeps_the_history_in_the_xdg_state_folder() throws Exception {
        Path state = dir.resolve("state");
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        RpctlCommand root = new RpctlCommand(Map.of("XDG_STATE_HOME", state.toString()), dir, false);
        Shell shell = new Shell(root, new PrintWriter(screen, true, StandardCharsets.UTF_8), new PrintWriter(err, true));
        try (DumbTerminal terminal = new DumbTerminal("test", "dumb",
                new ByteArrayInputStream("config check\n\nconfig check --mysql-port 0\nexit\n".getBytes(StandardCharsets.UTF_8)),
                screen, StandardCharsets.UTF_8)) {
            assertEquals(0, shell.interactive(terminal, Shell.historyFile(root.env())));
        }
        String shown = screen.toString(StandardCharsets.UTF_8);
        // a dumb terminal does not echo: the prompt, then what each line printed
        assertEquals("rpctl> " + OK + "rpctl> rpctl> rpctl> ", shown);
        assertTrue(err.toString().startsWith("rpctl: flag --mysql-port: mysql.port:"), err.toString());
        List<String> history = Files.readAllLines(state.resolve("rpctl/history"));
        assertEquals(3, history.size(), history.toString());
        assertTrue(history.get(0).endsWith("config check") && history.get(2).endsWith("exit"), history.toString());
    }

    @Test
    void the_history_goes_under_home_without_xdg_state_home() {
        assertEquals(dir.resolve(".local/state/rpctl/history"), Shell.historyFile(Map.of("HOME", dir.toString())));
        assertTrue(Files.isDirectory(dir.resolve(".local/state/rpctl")));
    }
}
