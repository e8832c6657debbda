package dev.rpctl.cli;

import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code rpctl shell} as a process reading a script, as an operator pipes one into it. */
class ShellIT {
    private record Run(Process process, Path out, Path err) {
        String stdout() throws Exception {
            return Files.readString(out);
        }

        String stderr() throws Exception {
            return Files.readString(err);
        }
    }

    private static Run start(String script, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(new File("bin/rpctl").getAbsolutePath()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("rpctl-shell", ".out");
        Path err = Files.createTempFile("rpctl-shell", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(Services.env());
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(script.getBytes(StandardCharsets.UTF_8));
        }
        return new Run(p, out, err);
    }

    private static String activity() {
        String id = Long.toString(Services.freshActivityId());
        Rpctl.Result r = Rpctl.withServices().run("activity", "create", "--activity", id, "--count", "1000", "--amount", "100000");
        assertEquals(0, r.exitCode(), r::toString);
        return id;
    }

    @Test
    void its_commands_share_one_set_of_connections() throws Exception {
        String id = activity();
        Run run = start(String.join("\n", "claim --activity " + id + " --user 1", "inspect --user 1 --activity " + id,
                "inspect --user 1 --activity " + id, "exit", ""), "-v", "shell");
        assertTrue(run.process().waitFor(120, TimeUnit.SECONDS));
        String err = run.stderr();
        assertEquals(0, run.process().exitValue(), err);
        assertTrue(run.stdout().lines().anyMatch(l -> l.matches("claimed\\s+" + id + "\\s+1 .*")), run.stdout());
        assertEquals(2, run.stdout().lines().filter(l -> l.matches(id + "\\s+side b\\s+row v\\d+ .*consistent.*")).count(), run.stdout());
        assertEquals(1, err.lines().filter(l -> l.contains("mysql primary at") && l.contains("connecting as")).count(), err);
        assertEquals(1, err.lines().filter(l -> l.contains("redis side a: single at")).count(), err);
        assertEquals(3, err.lines().filter(l -> l.matches(".*rpctl (claim|inspect): exit 0 in \\d+ ms")).count(), err);
    }

    @Test
    void ctrl_c_stops_the_running_command_and_the_script_goes_on_with_keep_going() throws Exception {
        String id = activity();
        Run run = start(String.join("\n", "claim --activity " + id + " --users 1-1000 --concurrency 1 --rate 20 --duration 1h",
                "activity show --activity " + id, ""), "shell", "--keep-going");
        // the load is running once its first claim is paid
        for (int i = 0; i < 600 && paid(id) == 0; i++) {
            assertTrue(run.process().isAlive(), run.stderr());
            Thread.sleep(100);
        }
        assertTrue(paid(id) > 0, "the load never claimed: " + run.stderr());
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(run.process().pid())).start();
        assertEquals(0, kill.waitFor());
        assertTrue(run.process().waitFor(60, TimeUnit.SECONDS));
        String out = run.stdout();
        assertEquals(130, run.process().exitValue(), out + run.stderr());
        assertTrue(run.stderr().contains("rpctl: interrupted: the figures so far"), run.stderr());
        // the line after the load ran: the shell survived the Ctrl-C
        assertTrue(out.lines().anyMatch(l -> l.matches("paid count\\s+[1-9]\\d*")), out);
    }

    private static long paid(String id) {
        Rpctl.Result r = Rpctl.withServices().run("activity", "show", "--activity", id);
        return r.out().lines().filter(l -> l.startsWith("paid count")).map(l -> Long.parseLong(l.substring(10).strip()))
                .findFirst().orElse(0L);
    }
}
