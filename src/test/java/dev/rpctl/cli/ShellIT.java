package dev.rpctl.cli;

import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
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

    @Test
    void ctrl_c_cuts_off_a_command_stuck_on_a_silent_server_and_the_next_line_runs() throws Exception {
        // side a accepts connections and never answers: the inspect waits for it until Ctrl-C
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            CountDownLatch connected = new CountDownLatch(1);
            List<Socket> held = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept());
                        connected.countDown();
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            Map<String, String> env = new HashMap<>(Services.env());
            env.put("RPCTL_SIDE_A_NODES", "127.0.0.1:" + silent.getLocalPort());
            env.put("RPCTL_SIDE_A_TIMEOUT", "10m");
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            Shell shell = new Shell(new RpctlCommand(env, Path.of("."), false), new PrintWriter(out, true), new PrintWriter(err, true));
            CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> {
                try {
                    return shell.script(new BufferedReader(new StringReader("inspect --user 1 --activity 1\nconfig check\n")), true);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            assertTrue(connected.await(60, TimeUnit.SECONDS), "inspect never reached side a: " + err);
            assertTrue(shell.interrupt());
            assertEquals(130, code.get(60, TimeUnit.SECONDS), out + "\n" + err);
            assertTrue(out.toString().endsWith("ok: defaults and environment (no file)\n"), out.toString());
            assertEquals("rpctl: interrupted\n", err.toString());
            for (Socket s : held) {
                s.close();
            }
        }
    }

    private static long paid(String id) {
        Rpctl.Result r = Rpctl.withServices().run("activity", "show", "--activity", id);
        return r.out().lines().filter(l -> l.startsWith("paid count")).map(l -> Long.parseLong(l.substring(10).strip()))
                .findFirst().orElse(0L);
    }
}
