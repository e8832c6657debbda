package dev.rpctl.sync;

import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.kafka.RpctlFormat;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A message an applier cannot read, under each sync.on-bad-data policy, and the dead-letter topic. */
class KafkaBadMessagesIT {
    private static final byte[] NOT_JSON = "{\"op\": insert".getBytes(StandardCharsets.UTF_8);

    /** Writes user 1's row, a message that is not JSON, then user 2's row, to partition 0 of the test's topic. */
    private static void publish(SyncFixture f) throws Exception {
        publish(f, NOT_JSON);
    }

    /** As {@link #publish(SyncFixture)}, with the given bad message. */
    private static void publish(SyncFixture f, byte[] bad) throws Exception {
        publish(f, "junk", bad);
    }

    /** User 1's row, the given message under the given key, then user 2's row, to partition 0 of the test's topic. */
    static void publish(SyncFixture f, String badKey, byte[] bad) throws Exception {
        String topic = f.app().config().kafka().topic();
        KafkaPipelineIT.clients(f).ensureTopic(topic);
        BinlogPosition at = new BinlogPosition("bin.000001", 4, "0-1-1");
        try (KafkaProducer<String, byte[]> p = KafkaPipelineIT.clients(f).producer("it-" + f.id)) {
            for (long u = 1; u <= 2; u++) {
                ClaimRow r = new ClaimRow(f.activity, u, 100, "", "req-" + u, 1, System.currentTimeMillis());
                p.send(new ProducerRecord<>(topic, 0, RpctlFormat.key(f.activity, u),
                        RpctlFormat.change(f.table, "insert", null, r, at, true, r.updatedAtMillis()))).get();
                if (u == 1) {
                    p.send(new ProducerRecord<>(topic, 0, badKey, bad)).get();
                }
            }
        }
    }

    private static String row(SyncFixture f, long user) {
        return f.app().side("a").get(f.key(f.activity, user));
    }

    @Test
    void under_fail_the_applier_exits_65_naming_topic_partition_and_offset_before_the_bad_message() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            KafkaPipelineIT.useKafka(f, 1);
            f.env.put("RPCTL_SYNC_ON_BAD_DATA", "fail");
            publish(f);
            Process applier = f.rpctl("applier", "sync-daemon", "--source", "kafka", "--side", "a",
                    "--metrics", "127.0.0.1:" + SyncFixture.freePort());
            assertTrue(applier.waitFor(60, TimeUnit.SECONDS));
            assertEquals(65, applier.exitValue());
            String err = f.stderr("applier");
            String topic = f.app().config().kafka().topic();
            assertTrue(err.contains("bad message at topic " + topic + " partition 0 offset 1: not JSON"), err);
            // what came before it is applied and committed; nothing from it on: the next start reads it again
            assertTrue(Entry.decode(row(f, 1)).hasRow());
            assertNull(row(f, 2));
            assertEquals(1, KafkaPipelineIT.committed(f, f.app().config().kafka().group("a"), 0));
        }
    }

    /** Publishes with the given bad message, runs an applier of side a under the policy to the end, returns the dead-letter copies. */
    private static List<ConsumerRecord<String, byte[]>> applyAndCopy(SyncFixture f, String policy, byte[] bad) throws Exception {
        KafkaPipelineIT.useKafka(f, 1);
        String deadLetters = "rpctl.it." + f.id + ".dead";
        f.env.put("RPCTL_SYNC_ON_BAD_DATA", policy);
        f.env.put("RPCTL_KAFKA_DEAD_LETTER_TOPIC", deadLetters);
        f.onClose(() -> {
            try (var admin = KafkaPipelineIT.clients(f).admin()) {
                admin.deleteTopics(List.of(deadLetters)).all().get(10, TimeUnit.SECONDS);
            }
        });
        publish(f, bad);
        SyncService applier = KafkaPipelineIT.applier(f, "a");
        applier.start();
        f.onClose(applier::shutdown);
        KafkaPipelineIT.awaitCommittedToEnd(f, f.app().config().kafka().group("a"), applier);
        assertTrue(Entry.decode(row(f, 1)).hasRow(), policy);
        assertTrue(Entry.decode(row(f, 2)).hasRow(), policy);
        assertEquals(1, applier.metrics().get(0).badData(), policy);
        List<ConsumerRecord<String, byte[]>> copies = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = KafkaPipelineIT.clients(f).consumer("it" + f.id + "-dlq", "it-dlq")) {
            c.subscribe(List.of(deadLetters));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (copies.isEmpty() && System.nanoTime() < until) {
                c.poll(Duration.ofMillis(200)).forEach(copies::add);
            }
        }
        return copies;
    }

    @Test
    void a_bad_message_too_big_for_kafkas_default_limit_is_copied_without_its_value_and_with_its_size() throws Exception {
        byte[] big = new byte[950 * 1024];
        java.util.Arrays.fill(big, (byte) 'x');
        try (SyncFixture f = new SyncFixture()) {
            List<ConsumerRecord<String, byte[]>> copies = applyAndCopy(f, "warn", big);
            assertEquals(1, copies.size());
            assertNull(copies.get(0).value());
            assertEquals(Integer.toString(big.length), header(copies.get(0), "rpctl-value-dropped"));
            assertEquals("1", header(copies.get(0), "rpctl-offset"));
        }
    }

    @Test
    void under_warn_and_skip_the_applier_goes_past_it_and_copies_it_to_the_dead_letter_topic() throws Exception {
        for (String policy : List.of("warn", "skip")) {
            try (SyncFixture f = new SyncFixture()) {
                List<ConsumerRecord<String, byte[]>> copies = applyAndCopy(f, policy, NOT_JSON);
                assertEquals(1, copies.size(), policy);
                ConsumerRecord<String, byte[]> copy = copies.get(0);
                assertNull(copy.headers().lastHeader("rpctl-value-dropped"));
                assertEquals("junk", copy.key());
                assertEquals(new String(NOT_JSON, StandardCharsets.UTF_8), new String(copy.value(), StandardCharsets.UTF_8));
                assertEquals(f.app().config().kafka().topic(), header(copy, "rpctl-topic"));
                assertEquals("0", header(copy, "rpctl-partition"));
                assertEquals("1", header(copy, "rpctl-offset"));
                assertTrue(header(copy, "rpctl-error").startsWith("not JSON"), header(copy, "rpctl-error"));
            }
        }
    }

    private static String header(ConsumerRecord<String, byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
