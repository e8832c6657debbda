package dev.rpctl.cli;

import dev.rpctl.cache.RawRedis;
import dev.rpctl.app.App;
import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import dev.rpctl.claim.VerifyService;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The claim load as an operator drives it: flags that contradict, Ctrl-C, and what --verify counts. */
class LoadIT {
    private final Rpctl rpctl = Rpctl.withServices();

    private String activity(int count) {
        String id = Long.toString(Services.freshActivityId());
        Rpctl.Result r = rpctl.run("activity", "create", "--activity", id, "--count", Integer.toString(count),
                "--amount", Long.toString(count * 10L));
        assertEquals(0, r.exitCode(), r::toString);
        return id;
    }

    @Test
    void count_with_duration_is_refused_as_a_usage_error() {
        Rpctl.Result r = rpctl.run("claim", "--activity", "1", "--users", "1-10", "--count", "5", "--duration", "5s");
        assertEquals(64, r.exitCode(), r::toString);
        assertTrue(r.err().contains("--duration and --count are alternatives"), r::toString);
    }

    @Test
    void ctrl_c_prints_the_summary_so_far_and_exits_130() throws Exception {
        String id = activity(1_000_000);
        Path out = Files.createTempFile("rpctl-load", ".out");
        Path err = Files.createTempFile("rpctl-load", ".err");
        ProcessBuilder pb = new ProcessBuilder(new File("bin/rpctl").getAbsolutePath(), "claim", "--activity", id,
                "--users", "1-100000000", "--duration", "120s", "--concurrency", "2", "--rate", "200", "--verify");
        pb.environment().putAll(Services.env());
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        try {
            // running once it has made its first claims
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            try (App app = Services.app()) {
                while (app.activities().require(Long.parseLong(id)).paidCount() < 5 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
            }
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "still running after Ctrl-C");
            String stdout = Files.readString(out);
            String stderr = Files.readString(err);
            assertEquals(130, p.exitValue(), stdout + stderr);
            assertTrue(stdout.contains("(interrupted: the figures so far)") && stdout.contains("claim-new"), stdout);
            assertTrue(stderr.contains("interrupted: the figures so far; not verified"), stderr);
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    @Test
    void verify_counts_an_absent_entry_as_missing_which_is_fine() {
        String id = activity(10);
        Rpctl.Result load = rpctl.run("claim", "--activity", id, "--users", "1-5", "--count", "5", "--verify");
        assertEquals(0, load.exitCode(), load::toString);
        try (App app = Services.app()) {
            RawRedis.call(app.side("b"), j -> j.del(app.protocol().key(Long.parseLong(id), 3)));
            VerifyService.Report v = app.verifyService().verify(Long.parseLong(id), List.of(1L, 2L, 3L, 4L, 5L));
            VerifyService.SideCheck b = v.sides().stream().filter(s -> s.side().equals("b")).findFirst().orElseThrow();
            assertEquals(1, b.missing(), v::toString);
            assertEquals(0, b.differing(), v::toString);
            assertTrue(v.consistent(), v::toString);
        }
    }

    /**
     * Claims that wait on a budget shard another transaction holds: the summary shows the share of
     * their time spent waiting and suggests more shards; it always names the driver's CPU share.
     */
    @Test
    void claims_waiting_on_a_held_shard_are_reported_with_a_hint_to_add_shards() throws Exception {
        String id = activity(20);
        try (java.sql.Connection holder = Services.root(); java.sql.Statement st = holder.createStatement()) {
            holder.setAutoCommit(false);
            st.executeQuery("SELECT shard FROM rp_activity_budget WHERE activity_id = " + id + " FOR UPDATE").close();
            java.util.concurrent.CompletableFuture<Rpctl.Result> load = new java.util.concurrent.CompletableFuture<>();
            Thread t = new Thread(() -> load.complete(rpctl.run("claim", "--activity", id, "--users", "1-10", "--count", "10",
                    "--concurrency", "2")));
            t.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (waiting(id) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(waiting(id) > 0, "the load's claims wait for the shard");
            // a wait the summary must show: hold the shard a while longer before letting go
            Thread.sleep(1000);
            holder.rollback();
            Rpctl.Result r = load.get(60, TimeUnit.SECONDS);
            assertEquals(0, r.exitCode(), r::toString);
            String line = r.out().lines().filter(l -> l.startsWith("claims: ")).findFirst().orElseThrow(() -> new AssertionError(r));
            assertTrue(line.matches("claims: [0-9.]+ a group \\(a transaction each\\); row lock waits [1-9][0-9,]*, [0-9]+% of the transactions' time"),
                    line);
            assertTrue(r.out().contains("claims waited on budget shard locks for a noticeable share of their time"), r::toString);
            assertTrue(r.out().lines().anyMatch(l -> l.matches("driver: the load's threads used [0-9]+% of this process's CPU .*")), r::toString);
        }
    }

    /**
     * Statements of the activity's claims waiting on the server: running for 200 ms or more (the
     * holder's own statement, just done, can still be listed for an instant).
     */
    private static long waiting(String activity) throws Exception {
        try (java.sql.Connection c = Services.root(); java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM information_schema.processlist WHERE command = 'Query'"
                     + " AND time_ms >= 200 AND info LIKE '%rp_activity_budget%activity_id = " + activity + " %' AND info NOT LIKE '%processlist%'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void verify_with_a_side_down_prints_the_figures_and_the_checks_it_could_make_and_names_the_side() throws Exception {
        String id = activity(10);
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Rpctl down = rpctl.with("RPCTL_SIDE_B_NODES", "127.0.0.1:" + closed);
        Rpctl.Result r = down.run("claim", "--activity", id, "--users", "1-5", "--count", "5", "--verify");
        assertEquals(69, r.exitCode(), r::toString);
        assertTrue(r.out().contains("outcomes: claimed 5"), r::toString);
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("users with two claims") && l.contains("ok")), r::toString);
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("side a entries = rows") && l.contains("ok")), r::toString);
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("side b entries = rows") && l.contains("not checked")
                && l.contains("unchecked")), r::toString);
        // after the load's summary line
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("rpctl: side(s) b could not be verified: redis side b at 127.0.0.1:" + closed)),
                r::toString);
        Rpctl.Result json = down.run("--json", "claim", "--activity", id, "--users", "6-8", "--count", "3", "--verify");
        assertEquals(69, json.exitCode(), json::toString);
        com.fasterxml.jackson.databind.JsonNode doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out());
        assertEquals(false, doc.get("consistent").asBoolean(), json::toString);
        assertEquals(0, doc.at("/verify/users_with_two_claims").asLong(), json::toString);
        for (com.fasterxml.jackson.databind.JsonNode s : doc.at("/verify/sides")) {
            assertEquals(s.get("side").asText().equals("b"), !s.get("unreachable").isNull(), json::toString);
        }
    }

    @Test
    void reads_of_a_side_that_is_down_are_answered_from_the_primary_and_counted() throws Exception {
        String id = activity(10);
        assertEquals(0, rpctl.run("claim", "--activity", id, "--user", "2").exitCode());
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Rpctl.Result r = rpctl.with("RPCTL_SIDE_B_NODES", "127.0.0.1:" + closed).run("--json", "claim", "--activity", id,
                "--users", "1-5", "--count", "200", "--read-ratio", "1", "--read-side", "b", "--concurrency", "4");
        assertEquals(0, r.exitCode(), r::toString);
        com.fasterxml.jackson.databind.JsonNode doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertEquals(0, doc.get("errors").asLong(), r::toString);
        assertEquals(0, doc.get("reads_refused").asLong(), r::toString);
        assertTrue(doc.get("read_fallbacks").asLong() > 0, r::toString);
    }

    @Test
    void an_undecodable_entry_stops_a_load_with_65_under_fail_and_is_replaced_once_under_warn() throws Exception {
        String id = activity(10);
        assertEquals(0, rpctl.run("claim", "--activity", id, "--user", "3").exitCode());
        String key;
        try (App app = Services.app()) {
            key = app.protocol().key(Long.parseLong(id), 3);
            RawRedis.call(app.side("a"), j -> j.set(key, "garbage"));
        }
        Rpctl.Result fail = rpctl.run("claim", "--activity", id, "--users", "3-3", "--count", "20", "--read-ratio", "1",
                "--concurrency", "1");
        assertEquals(65, fail.exitCode(), fail::toString);
        assertTrue(fail.err().contains("side a: key " + key + " holds an undecodable cache entry \"garbage\""), fail::toString);
        assertTrue(fail.out().contains("undecodable entries 1"), fail::toString);

        Rpctl.Result warn = rpctl.run("--json", "claim", "--sync-on-bad-data", "warn", "--activity", id, "--users", "3-3",
                "--count", "20", "--read-ratio", "1", "--concurrency", "1");
        assertEquals(0, warn.exitCode(), warn::toString);
        com.fasterxml.jackson.databind.JsonNode doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(warn.out());
        // replaced by the first read; the other 19 are hits
        assertEquals(1, doc.get("undecodable_entries").asLong(), warn::toString);
        assertEquals(0, doc.get("errors").asLong(), warn::toString);
        try (App app = Services.app()) {
            assertTrue(app.side("a").get(key).startsWith("R|"), "the entry is the row again");
        }
    }
}
