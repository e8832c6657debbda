package dev.rpctl.cli;

import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** -v and -vv as an operator reads them on a real process's stderr, where logback writes. */
class VerbosityIT {
    private static String stderr(String... args) throws Exception {
        Path err = Files.createTempFile("rpctl-v", ".err");
        List<String> cmd = new ArrayList<>(List.of(new File("bin/rpctl").getAbsolutePath()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile());
        pb.environment().putAll(Services.env());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String text = Files.readString(err);
        Files.delete(err);
        assertEquals(0, p.exitValue(), text);
        return text;
    }

    @Test
    void version_names_the_commit_built_and_with_v_every_server_and_its_version() throws Exception {
        Rpctl rpctl = Rpctl.withServices();
        Rpctl.Result plain = rpctl.run("--version");
        assertEquals(0, plain.exitCode(), plain::toString);
        String first = plain.out().lines().findFirst().orElse("");
        assertTrue(first.matches("rpctl \\S+ \\(commit [0-9a-f]{12}\\)"), first);
        assertTrue(plain.out().lines().noneMatch(l -> l.startsWith("mysql") || l.startsWith("redis")), plain::toString);
        Rpctl.Result v = rpctl.with("RPCTL_SIDE_B_NODES", "127.0.0.1:1").run("-v", "--version");
        assertEquals(0, v.exitCode(), v::toString);
        String mysql = "127.0.0.1:" + Services.env().get("RPCTL_MYSQL_PORT");
        assertTrue(v.out().lines().anyMatch(l -> l.matches("mysql " + java.util.regex.Pattern.quote(mysql) + ": 10\\..*MariaDB.*")), v::toString);
        assertTrue(v.out().lines().anyMatch(l -> l.matches("redis side a \\S+: 7\\.[0-9.]+")), v::toString);
        // a server that does not answer is named with what it met; the others still say
        assertTrue(v.out().lines().anyMatch(l -> l.startsWith("redis side b 127.0.0.1:1: unavailable (")), v::toString);
    }

    @Test
    void v_logs_servers_addresses_pool_events_and_timings_and_vv_adds_the_sql() throws Exception {
        String id = Long.toString(Services.freshActivityId());
        assertEquals(0, Rpctl.withServices().run("activity", "create", "--activity", id, "--count", "10", "--amount", "100").exitCode());
        String mysql = "127.0.0.1:" + Services.env().get("RPCTL_MYSQL_PORT");
        assertEquals("", stderr("claim", "--activity", id, "--user", "1"));
        String v = stderr("-v", "claim", "--activity", id, "--user", "2");
        assertTrue(v.contains("mysql primary at " + mysql + ": connecting as rpctl"), v);
        assertTrue(v.contains("connected in "), v);
        assertTrue(v.contains("redis side a: single at " + Services.env().get("RPCTL_SIDE_A_NODES")), v);
        assertTrue(v.contains("rpctl-mysql-primary - Start completed"), v);
        assertTrue(v.contains("rpctl claim: exit 0 in "), v);
        assertTrue(!v.contains("[QUERY]"), v);
        String vvv = stderr("-vvv", "claim", "--activity", id, "--user", "3");
        assertTrue(vvv.contains("[QUERY] SELECT") && vvv.contains("rpctl claim: exit 0 in "), vvv);
        assertTrue(vvv.lines().allMatch(l -> l.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} .*")), "one line an event:\n" + vvv);
    }

    @Test
    void vv_logs_every_script_call_with_its_side_keys_and_outcome() throws Exception {
        String id = Long.toString(Services.freshActivityId());
        assertEquals(0, Rpctl.withServices().run("activity", "create", "--activity", id, "--count", "10", "--amount", "100").exitCode());
        String v = stderr("-v", "claim", "--activity", id, "--user", "4");
        assertTrue(!v.contains("cas.lua"), v);
        String vv = stderr("-vv", "claim", "--activity", id, "--user", "5");
        String key5 = "rp:claim:" + id + ":5";
        assertTrue(vv.contains("side a: cas.lua " + key5 + " -> written"), vv);
        assertTrue(vv.contains("side b: cas.lua " + key5 + " -> written"), vv);
    }
}
