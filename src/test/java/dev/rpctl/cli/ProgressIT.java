package dev.rpctl.cli;

import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every long command, run off a terminal (cron, a pipe): no progress while it runs, one summary line on stderr at the end. */
class ProgressIT {
    private final Rpctl rpctl = Rpctl.withServices();

    private static void summary(Rpctl.Result r, String pattern) {
        assertEquals(0, r.exitCode(), r::toString);
        assertFalse(r.err().contains("\r"), () -> "no line rewritten in place off a terminal: " + r);
        List<String> lines = r.err().lines().filter(l -> l.matches(pattern)).toList();
        assertEquals(1, lines.size(), () -> "one summary line " + pattern + ": " + r);
    }

    @Test
    void claim_load_reconcile_warm_and_bloom_each_end_with_one_summary_line() {
        assertEquals(0, rpctl.run("db", "init").exitCode());
        String id = Long.toString(Services.freshActivityId());
        assertEquals(0, rpctl.run("activity", "create", "--activity", id, "--count", "100", "--amount", "1000").exitCode());

        summary(rpctl.run("claim", "--activity", id, "--users", "1-50", "--count", "40", "--concurrency", "2"),
                "claim: [0-9,]+ ops in [0-9.]+ s \\([0-9,]+/s\\), claimed [0-9,]+, duplicate [0-9,]+, sold out 0, errors 0");
        summary(rpctl.run("reconcile", "--activity", id), "reconcile: [0-9,]+ keys in [0-9.]+ s \\([0-9,]+/s\\)");
        summary(rpctl.run("warm", "--activity", id, "--top", "10"), "warm: 10 users in [0-9.]+ s \\([0-9,]+/s\\)");
        summary(rpctl.run("warm", "--activity", id, "--bloom"), "bloom: [0-9,]+ claimers in [0-9.]+ s \\([0-9,]+/s\\)");
    }

    @Test
    void with_json_the_summary_stays_on_stderr_and_stdout_holds_the_document_alone() {
        assertEquals(0, rpctl.run("db", "init").exitCode());
        String id = Long.toString(Services.freshActivityId());
        assertEquals(0, rpctl.run("activity", "create", "--activity", id, "--count", "10", "--amount", "100").exitCode());
        Rpctl.Result r = rpctl.run("--json", "reconcile", "--activity", id);
        summary(r, "reconcile: 0 keys in [0-9.]+ s \\([0-9,]+/s\\)");
        assertTrue(r.out().startsWith("{") && r.out().strip().endsWith("}"), r::toString);
    }
}
