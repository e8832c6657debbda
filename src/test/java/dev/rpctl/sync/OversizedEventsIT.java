package dev.rpctl.sync;

import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.kafka.RpctlFormat;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * sync.max-event-bytes: a binlog rows event or a Kafka message above it is passed over unread and
 * handled by sync.on-bad-data. The bound here is its least, 1024 bytes: one row's event is well
 * below it, a multi-row INSERT of 40 claims (one rows event) is above it.
 */
class OversizedEventsIT {
    private static final int BOUND = 1024;

    /** Users 1-5 one by one, users 100-139 in one rows event above the bound, then user 6. */
    private static void writeAroundAnOversizedEvent(SyncFixture f) throws Exception {
        for (long u = 1; u <= 5; u++) {
            f.insertUsers(u, u);
        }
        f.insertUsers(100, 139);
        f.insertUsers(6, 6);
    }

    private static Map<String, String> smallRows(SyncFixture f) throws Exception {
        return f.expectedRows().entrySet().stream().filter(e -> !e.getKey().matches(".*:1[0-9][0-9]$"))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    @Test
    void under_fail_the_daemon_exits_65_naming_the_table_and_the_binlog_place_of_the_event() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            f.env.put("RPCTL_SYNC_MAX_EVENT_BYTES", Integer.toString(BOUND));
            f.env.put("RPCTL_SYNC_ON_BAD_DATA", "fail");
            Process daemon = f.rpctl("oversized-fail", "sync-daemon", "--side", "a", "--from-now", "--pipeline-prefix",
                    f.prefix, "--metrics", "127.0.0.1:" + SyncFixture.freePort());
            f.onClose(daemon::destroy);
            awaitStarted(f, "oversized-fail");
            writeAroundAnOversizedEvent(f);
            assertTrue(daemon.waitFor(60, TimeUnit.SECONDS), "the daemon went on past an oversized event under fail");
            assertEquals(65, daemon.exitValue());
            String err = f.stderr("oversized-fail");
            assertTrue(err.matches("(?s).*a rows event of " + f.table + " at [^ ]+:[0-9]+ holds [0-9]+ bytes, more than"
                    + " sync.max-event-bytes \\(1024\\).*"), err);
            // what came before it is applied; nothing from it on
            assertTrue(Entry.decode(f.app().side("a").get(f.key(f.activity, 5))).hasRow());
            assertNull(f.app().side("a").get(f.key(f.activity, 100)));
            assertNull(f.app().side("a").get(f.key(f.activity, 6)));
        }
    }

    /** Waits for the daemon's log line that it reads the binlog (it starts at the end: --from-now). */
    private static void awaitStarted(SyncFixture f, String log) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!f.stderr(log).contains("reading the binlog")) {
            assertTrue(System.nanoTime() < until, () -> "the daemon did not start: " + read(f, log));
            Thread.sleep(100);
        }
    }

    private static String read(SyncFixture f, String log) {
        try {
            return f.stderr(log);
        } catch (Exception e) {
            return e.toString();
        }
    }

    @Test
    void under_warn_and_skip_the_daemon_passes_the_oversized_event_over_and_applies_what_follows() throws Exception {
        for (String policy : List.of("warn", "skip")) {
            try (SyncFixture f = new SyncFixture()) {
                f.env.put("RPCTL_SYNC_MAX_EVENT_BYTES", Integer.toString(BOUND));
                f.env.put("RPCTL_SYNC_ON_BAD_DATA", policy);
                SyncService daemon = f.service("a", true);
                daemon.start();
                f.onClose(daemon::shutdown);
                SyncFixture.awaitLeading(daemon);
                writeAroundAnOversizedEvent(f);
                f.awaitSide("a", smallRows(f), 30);
                assertNull(f.app().side("a").get(f.key(f.activity, 100)), policy);
                assertEquals(1, daemon.metrics().get(0).badData(), policy);
            }
        }
    }

    /** User 1's row, a message of 2,000 bytes, then user 2's row, to partition 0 of the test's topic. */
    private static void publish(SyncFixture f) throws Exception {
        BinlogPosition at = new BinlogPosition("bin.000001", 4, "0-1-1");
        ClaimRow big = new ClaimRow(f.activity, 3, 100, "", "r".repeat(2000), 1, System.currentTimeMillis());
        byte[] value = RpctlFormat.change(f.table, "insert", null, big, at, true, big.updatedAtMillis());
        assertTrue(value.length > BOUND);
        KafkaBadMessagesIT.publish(f, RpctlFormat.key(f.activity, 3), value);
    }

    @Test
    void under_fail_an_applier_exits_65_naming_where_the_oversized_message_is() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            KafkaPipelineIT.useKafka(f, 1);
            f.env.put("RPCTL_SYNC_MAX_EVENT_BYTES", Integer.toString(BOUND));
            f.env.put("RPCTL_SYNC_ON_BAD_DATA", "fail");
            publish(f);
            Process applier = f.rpctl("oversized-applier", "sync-daemon", "--source", "kafka", "--side", "a",
                    "--metrics", "127.0.0.1:" + SyncFixture.freePort());
            f.onClose(applier::destroy);
            assertTrue(applier.waitFor(60, TimeUnit.SECONDS), "the applier went on past an oversized message under fail");
            assertEquals(65, applier.exitValue());
            String err = f.stderr("oversized-applier");
            String topic = f.app().config().kafka().topic();
            assertTrue(err.contains("bad message at topic " + topic + " partition 0 offset 1: it holds "), err);
            assertTrue(err.contains("more than sync.max-event-bytes (1024)"), err);
            assertTrue(Entry.decode(f.app().side("a").get(f.key(f.activity, 1))).hasRow());
            assertNull(f.app().side("a").get(f.key(f.activity, 3)));
            assertNull(f.app().side("a").get(f.key(f.activity, 2)));
        }
    }

    @Test
    void under_warn_and_skip_an_applier_passes_the_oversized_message_over() throws Exception {
        for (String policy : List.of("warn", "skip")) {
            try (SyncFixture f = new SyncFixture()) {
                KafkaPipelineIT.useKafka(f, 1);
                f.env.put("RPCTL_SYNC_MAX_EVENT_BYTES", Integer.toString(BOUND));
                f.env.put("RPCTL_SYNC_ON_BAD_DATA", policy);
                publish(f);
                SyncService applier = KafkaPipelineIT.applier(f, "a");
                applier.start();
                f.onClose(applier::shutdown);
                KafkaPipelineIT.awaitCommittedToEnd(f, f.app().config().kafka().group("a"), applier);
                assertTrue(Entry.decode(f.app().side("a").get(f.key(f.activity, 1))).hasRow(), policy);
                assertTrue(Entry.decode(f.app().side("a").get(f.key(f.activity, 2))).hasRow(), policy);
                assertNull(f.app().side("a").get(f.key(f.activity, 3)), policy);
                assertEquals(1, applier.metrics().get(0).badData(), policy);
            }
        }
    }

}
