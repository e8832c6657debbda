package dev.rpctl.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one progress line of every long command: live on a terminal, a summary line elsewhere. */
class ProgressTest {
    private final StringWriter err = new StringWriter();

    private Progress progress(boolean live, String what, String unit) {
        return new Progress(new PrintWriter(err), live, what, unit);
    }

    @Test
    void on_a_terminal_one_line_is_rewritten_with_done_rate_share_and_time_left_then_cleared() {
        Progress p = progress(true, "reconcile", "keys").total(4_000);
        p.update(1_000, 2.0, "claims up to activity 7 user 42");
        assertEquals("\rreconcile: 1,000 keys, 500/s, 25%, 6 s left, claims up to activity 7 user 42\u001b[K", err.toString());
        p.finish(4_000, 8.0, "");
        assertTrue(err.toString().endsWith("\r\u001b[K"), err::toString);
        assertTrue(!err.toString().contains("\n"), "no summary line on a terminal: " + err);
    }

    @Test
    void a_load_bounded_by_its_duration_estimates_the_time_left_from_it() {
        Progress p = progress(true, "claim", "ops").duration(Duration.ofSeconds(30));
        p.update(12_000, 10.0, "claimed 11,000, duplicate 1,000, sold out 0, errors 0");
        assertEquals("\rclaim: 12,000 ops, 1,200/s, 33%, 20 s left, claimed 11,000, duplicate 1,000, sold out 0, errors 0\u001b[K",
                err.toString());
    }

    @Test
    void work_of_unknown_size_shows_done_and_rate_only() {
        progress(true, "bloom", "claimers").update(50, 0.5, "");
        assertEquals("\rbloom: 50 claimers, 100/s\u001b[K", err.toString());
    }

    @Test
    void elsewhere_nothing_while_it_runs_then_one_summary_line() {
        Progress p = progress(false, "warm", "users").total(2_000);
        p.update(1_000, 2.0, "");
        p.update(2_000, 4.0, "");
        assertEquals("", err.toString());
        p.finish(2_000, 4.0, "");
        assertEquals("warm: 2,000 users in 4.0 s (500/s)\n", err.toString().replace(System.lineSeparator(), "\n"));
    }

    @Test
    void the_time_left_reads_in_seconds_minutes_or_hours() {
        assertEquals("42 s", Progress.eta(42.2));
        assertEquals("3 min 20 s", Progress.eta(200));
        assertEquals("2 h 05 min", Progress.eta(7_500));
    }
}
