package dev.rpctl.warm;

import dev.rpctl.app.App;
import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import dev.rpctl.cache.RawRedis;
import dev.rpctl.protocol.Entry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WarmIT {
    App app;
    long activity;
    Path file;

    @BeforeAll
    static void schema() {
        assertEquals(0, Rpctl.withServices().run("db", "init").exitCode());
    }

    @BeforeEach
    void open() throws Exception {
        app = Services.app();
        activity = Services.freshActivityId();
        try (Connection c = app.primary().connection(); Statement st = c.createStatement()) {
            // users 1-50 have claimed, the latest claimers being the highest ids
            st.execute("INSERT INTO " + app.config().mapping().claimTable()
                    + " (activity_id, user_id, amount, request_id, version, updated_at) SELECT " + activity
                    + ", seq, seq, CONCAT('req-', seq), 1, TIMESTAMP('2026-01-01') + INTERVAL seq SECOND FROM seq_1_to_50");
        }
        StringBuilder users = new StringBuilder("# hot users\n");
        for (int u = 1; u <= 100; u++) {
            users.append(u).append('\n');
            if (u == 10) {
                users.append("abc\n\n-5\n");
            }
        }
        file = Files.createTempFile("rpctl-warm", ".txt");
        Files.writeString(file, users);
    }

    @AfterEach
    void close() throws Exception {
        app.close();
        Files.deleteIfExists(file);
    }

    private String entry(String side, long user) {
        return app.side(side).get(app.protocol().key(activity, user));
    }

    @Test
    void warm_from_a_file_writes_rows_and_placeholders_to_both_sides_keeps_newer_entries_and_names_bad_lines() {
        // a newer entry already on side a is kept
        RawRedis.call(app.side("a"), j -> j.set(app.protocol().key(activity, 3), "R|5|3|paid|req-3|0"));
        Rpctl.Result r = Rpctl.withServices().run("warm", "--activity", Long.toString(activity), "--users-file", file.toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.err().contains(file + ":12: not a user id: \"abc\"; skipped"), r.err());
        assertTrue(r.err().contains(file + ":14: not a user id: \"-5\"; skipped"), r.err());
        assertTrue(r.out().contains("100 users (50 claims, 50 placeholders)"), r.out());
        for (String side : new String[] {"a", "b"}) {
            for (long u = 1; u <= 100; u++) {
                Entry e = Entry.decode(entry(side, u));
                if (side.equals("a") && u == 3) {
                    assertEquals(5, e.version(), "the newer entry stays");
                } else if (u <= 50) {
                    assertTrue(e.sameRow(app.claims().find(activity, u).orElseThrow()), side + " " + u);
                } else {
                    assertEquals(Entry.Kind.PLACEHOLDER, e.kind(), side + " " + u);
                }
            }
        }
    }

    @Test
    void strict_refuses_a_file_with_bad_lines_with_65_and_warms_nothing() {
        Rpctl.Result r = Rpctl.withServices().run("warm", "--activity", Long.toString(activity), "--users-file",
                file.toString(), "--strict");
        assertEquals(65, r.exitCode(), r::toString);
        assertTrue(r.err().contains(":12: not a user id: \"abc\""), r.err());
        assertNull(entry("a", 1));
    }

    @Test
    void warm_by_top_takes_the_latest_claimers_and_one_side_only() {
        Rpctl.Result r = Rpctl.withServices().run("warm", "--activity", Long.toString(activity), "--top", "10", "--side", "b");
        assertEquals(0, r.exitCode(), r::toString);
        assertNull(entry("a", 50));
        assertTrue(entry("b", 50).startsWith("R|1|50|"), entry("b", 50));
        assertTrue(entry("b", 41).startsWith("R|1|41|"));
        assertNull(entry("b", 40), "only the ten latest claimers");
    }

    @Test
    void warm_reads_user_ids_from_stdin() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(new File("bin/rpctl").getAbsolutePath(), "warm", "--activity",
                Long.toString(activity), "--users-file", "-");
        pb.environment().putAll(Services.env());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write("7\n70\n".getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(entry("a", 7).startsWith("R|1|7|"), out);
        assertEquals("P|0", entry("b", 70));
    }
}
