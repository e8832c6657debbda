package dev.rpctl.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.config.Config;
import dev.rpctl.kafka.KafkaClients;
import dev.rpctl.kafka.RpctlFormat;
import dev.rpctl.protocol.Entry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Kafka mode against the local KRaft broker: binlog -> publisher -> topic -> each side's appliers. */
class KafkaPipelineIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** This test's own topic and consumer groups, on the local services' broker. */
    static void useKafka(SyncFixture f, int partitions) {
        f.env.putIfAbsent("RPCTL_KAFKA_BOOTSTRAP", "127.0.0.1:19092");
        f.env.put("RPCTL_KAFKA_TOPIC", "rpctl.it." + f.id);
        f.env.put("RPCTL_KAFKA_GROUP_PREFIX", "it" + f.id);
        f.env.put("RPCTL_KAFKA_PARTITIONS", Integer.toString(partitions));
        f.onClose(() -> {
            try (Admin admin = clients(f).admin()) {
                admin.deleteTopics(List.of("rpctl.it." + f.id)).all().get(10, TimeUnit.SECONDS);
            }
        });
    }

    static KafkaClients clients(SyncFixture f) {
        return new KafkaClients(f.app().config().kafka());
    }

    static SyncService publisher(SyncFixture f, boolean fromNow) {
        Config c = f.app().config();
        return new SyncService(f.repo(), List.of(), f.app().protocol(), c.mapping(), c.sync(),
                new SyncService.Options(f.prefix, fromNow, false, SyncService.Mode.PUBLISH, null), clients(f));
    }

    static SyncService applier(SyncFixture f, String side) {
        Config c = f.app().config();
        return new SyncService(f.repo(), f.app().sides(side), f.app().protocol(), c.mapping(), c.sync(),
                new SyncService.Options(f.prefix, false, false, SyncService.Mode.APPLY,
                        new RpctlFormat(c.mapping().claimTable())), clients(f));
    }

    /** Waits until the group has committed, in every partition, the end of the topic; fails after 30 s. */
    static void awaitCommittedToEnd(SyncFixture f, String group) throws Exception {
        String topic = f.app().config().kafka().topic();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last = "";
        try (Admin admin = clients(f).admin()) {
            while (System.nanoTime() < until) {
                int n = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
                Map<TopicPartition, OffsetSpec> ask = new HashMap<>();
                for (int p = 0; p < n; p++) {
                    ask.put(new TopicPartition(topic, p), OffsetSpec.latest());
                }
                Map<TopicPartition, Long> ends = admin.listOffsets(ask).all().get().entrySet().stream()
                        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get();
                boolean all = ends.entrySet().stream().allMatch(e -> e.getValue() == 0
                        || (committed.get(e.getKey()) != null && committed.get(e.getKey()).offset() == e.getValue()));
                if (all) {
                    return;
                }
                last = "ends " + ends + ", committed " + committed;
                Thread.sleep(200);
            }
        }
        fail("group " + group + " did not commit the end of the topic: " + last);
    }

    @Test
    void rows_written_by_plain_sql_reach_both_sides_through_kafka_and_offsets_follow() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            useKafka(f, 3);
            SyncService publisher = publisher(f, true);
            publisher.start();
            f.onClose(publisher::shutdown);
            SyncFixture.awaitLeading(publisher);
            SyncService appliers = applier(f, "all");
            appliers.start();
            f.onClose(appliers::shutdown);
            SyncFixture.awaitLeading(appliers);

            f.insertUsers(1, 40);
            try (java.sql.Connection c = f.connect()) {
                c.setAutoCommit(false);
                f.insertUsers(c, 41, 60);
                try (java.sql.Statement st = c.createStatement()) {
                    st.execute("UPDATE " + f.table + " SET amount = amount + 1, status = 'refunded', version = version + 1"
                            + " WHERE user_id <= 10");
                }
                c.commit();
            }
            f.sql("DELETE FROM " + f.table + " WHERE user_id BETWEEN 51 AND 60");
            // user 30 becomes user 9000030: the old key says "gone", the new one holds the row
            f.sql("UPDATE " + f.table + " SET user_id = 9000030, version = version + 1 WHERE user_id = 30");

            Map<String, String> expected = new LinkedHashMap<>(f.expectedRows());
            for (long u = 51; u <= 60; u++) {
                expected.put(f.key(f.activity, u), Entry.tombstone(2).encode());
            }
            expected.put(f.key(f.activity, 30), Entry.tombstone(2).encode());
            assertEquals(60 - 10 - 1 + 1 + 11, expected.size());
            f.awaitSide("a", expected, 30);
            f.awaitSide("b", expected, 30);
            assertTrue(expected.get(f.key(f.activity, 3)).startsWith("R|2|31|refunded|req-3|"));

            // every side's group commits up to the end of the topic once all is applied
            awaitCommittedToEnd(f, f.app().config().kafka().group("a"));
            awaitCommittedToEnd(f, f.app().config().kafka().group("b"));
            // heartbeats went through the topic to every side: the lag is measured end to end
            for (SyncMetrics m : appliers.metrics()) {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (m.appliedBeatMillis() == 0 && System.nanoTime() < until) {
                    Thread.sleep(50);
                }
                assertTrue(m.appliedBeatMillis() > 0 && m.lagMillis(System.currentTimeMillis()) >= 0, m.pipeline());
            }

            publisher.shutdown();
            BinlogPosition saved = f.repo().load(f.prefix + SyncService.PUBLISHER).orElseThrow();
            assertEquals(f.repo().serverNow().file(), saved.file());
        }
    }

    @Test
    void a_message_carries_table_operation_key_rows_version_binlog_position_and_commit_time() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            useKafka(f, 2);
            SyncService publisher = publisher(f, true);
            publisher.start();
            f.onClose(publisher::shutdown);
            SyncFixture.awaitLeading(publisher);

            f.insertUsers(7, 7);
            f.sql("UPDATE " + f.table + " SET status = 'refunded', version = version + 1 WHERE user_id = 7");
            f.sql("DELETE FROM " + f.table + " WHERE user_id = 7");

            List<JsonNode> changes = new ArrayList<>();
            boolean beat = false;
            try (KafkaConsumer<String, byte[]> c = clients(f).consumer("it" + f.id + "-reader", "it-reader")) {
                c.subscribe(List.of(f.app().config().kafka().topic()));
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while ((changes.size() < 3 || !beat) && System.nanoTime() < until) {
                    for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                        JsonNode m = JSON.readTree(r.value());
                        if (m.get("op").asText().equals("heartbeat")) {
                            beat = true;
                            assertEquals("heartbeat", r.key());
                            assertEquals(f.prefix + "kafka", m.get("pipeline").asText());
                            assertTrue(m.get("beat_ms").asLong() > 0);
                        } else {
                            assertEquals(f.activity + ":7", r.key());
                            changes.add(m);
                        }
                    }
                }
            }
            assertTrue(beat, "a heartbeat reached the topic");
            assertEquals(List.of("insert", "update", "delete"), changes.stream().map(m -> m.get("op").asText()).toList());
            JsonNode update = changes.get(1);
            assertEquals(RpctlFormat.FORMAT, update.get("format").asText());
            assertEquals(f.table, update.get("table").asText());
            assertEquals(f.activity, update.at("/key/activity_id").asLong());
            assertEquals(7, update.at("/key/user_id").asLong());
            assertEquals(1, update.at("/before/version").asLong());
            assertEquals("refunded", update.at("/after/status").asText());
            assertEquals(70, update.at("/after/amount").asLong());
            assertEquals("req-7", update.at("/after/request_id").asText());
            assertEquals(2, update.get("version").asLong());
            assertTrue(update.at("/binlog/file").asText().contains("bin"), update.toString());
            assertTrue(update.at("/binlog/position").asLong() > 0);
            assertFalse(update.at("/binlog/gtid").asText().isEmpty(), "MariaDB GTID: " + update);
            assertEquals(update.at("/after/updated_at_ms").asLong(), update.get("commit_ms").asLong());
            assertTrue(changes.get(0).get("before").isNull());
            JsonNode delete = changes.get(2);
            assertTrue(delete.get("after").isNull());
            assertEquals(3, delete.get("version").asLong(), "a delete's version is its tombstone's");
            assertNotNull(f.repo().load(f.prefix + SyncService.PUBLISHER).orElse(null));
        }
    }
}
