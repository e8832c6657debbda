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

    /**
     * Waits until the group has committed, in every partition, at least the end the topic has
     * now (a running publisher keeps adding heartbeats after it); fails after 30 s.
     */
    static void awaitCommittedToEnd(SyncFixture f, String group, SyncService... appliers) throws Exception {
        String topic = f.app().config().kafka().topic();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last = "";
        try (Admin admin = clients(f).admin()) {
            int n = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
            Map<TopicPartition, OffsetSpec> ask = new HashMap<>();
            for (int p = 0; p < n; p++) {
                ask.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            Map<TopicPartition, Long> ends = admin.listOffsets(ask).all().get().entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
            while (System.nanoTime() < until) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get();
                boolean all = ends.entrySet().stream().allMatch(e -> e.getValue() == 0
                        || (committed.get(e.getKey()) != null && committed.get(e.getKey()).offset() >= e.getValue()));
                if (all) {
                    return;
                }
                last = "ends " + ends + ", committed " + committed;
                Thread.sleep(200);
            }
        }
        StringBuilder why = new StringBuilder();
        for (SyncService a : appliers) {
            if (a.failure() != null) {
                why.append("; an applier ended: ").append(a.failure().getMessage());
            }
        }
        fail("group " + group + " did not commit the end of the topic: " + last + why);
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
            awaitCommittedToEnd(f, f.app().config().kafka().group("a"), appliers);
            awaitCommittedToEnd(f, f.app().config().kafka().group("b"), appliers);
            // heartbeats went through the topic to every side: the lag is measured end to end
            for (SyncMetrics m : appliers.metrics()) {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (m.appliedBeatMillis() == 0 && System.nanoTime() < until) {
                    Thread.sleep(50);
                }
                assertTrue(m.appliedBeatMillis() > 0 && m.lagMillis(System.currentTimeMillis()) >= 0, m.pipeline());
            }

            // no more messages (the heartbeats stop with the publisher): the groups catch up with the topic's end
            publisher.shutdown();
            awaitCommittedToEnd(f, f.app().config().kafka().group("a"), appliers);
            awaitCommittedToEnd(f, f.app().config().kafka().group("b"), appliers);
            // 'rpctl status' shows each side's group: its appliers, nothing left to read, the lag end to end
            dev.rpctl.Rpctl cli = dev.rpctl.Rpctl.withServices();
            for (Map.Entry<String, String> e : f.env.entrySet()) {
                if (e.getKey().startsWith("RPCTL_")) {
                    cli = cli.with(e.getKey(), e.getValue());
                }
            }
            dev.rpctl.Rpctl.Result status = cli.run("--json", "status", "--kafka", "--all");
            JsonNode doc = JSON.readTree(status.out());
            assertEquals(2, doc.get("kafka_groups").size(), status.toString());
            for (JsonNode g : doc.get("kafka_groups")) {
                assertEquals("ok", g.get("state").asText(), status.toString());
                assertEquals(1, g.get("members").asInt());
                assertEquals(0, g.get("lag_messages").asLong(), status.toString());
                assertTrue(g.get("lag_ms").asLong() >= 0, status.toString());
            }
            assertTrue(java.util.stream.StreamSupport.stream(doc.get("pipelines").spliterator(), false)
                    .anyMatch(p -> p.get("pipeline").asText().equals(f.prefix + SyncService.PUBLISHER)), status.toString());
            // /metrics: each side's consumer lag in messages, and its end-to-end lag
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (appliers.metrics().stream().anyMatch(m -> m.consumerLag() != 0) && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            String metrics = MetricsServer.render(appliers.metrics());
            for (String side : List.of("a", "b")) {
                String labels = "{pipeline=\"" + f.app().config().kafka().group(side) + "\",side=\"" + side + "\"}";
                assertTrue(metrics.contains("rpctl_sync_consumer_lag_messages" + labels + " 0"), metrics);
                assertTrue(metrics.contains("rpctl_sync_lag_seconds" + labels + " "), metrics);
            }

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
            assertEquals("end", update.at("/binlog/at").asText());
            assertFalse(update.at("/binlog/gtid").asText().isEmpty(), "MariaDB GTID: " + update);
            assertEquals(update.at("/after/updated_at_ms").asLong(), update.get("commit_ms").asLong());
            assertTrue(changes.get(0).get("before").isNull());
            JsonNode delete = changes.get(2);
            assertTrue(delete.get("after").isNull());
            assertEquals(3, delete.get("version").asLong(), "a delete's version is its tombstone's");
            assertNotNull(f.repo().load(f.prefix + SyncService.PUBLISHER).orElse(null));
        }
    }
    /** The group's committed offset of a partition; -1 when none is committed. */
    static long committed(SyncFixture f, String group, int partition) throws Exception {
        try (Admin admin = clients(f).admin()) {
            OffsetAndMetadata o = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                    .get(new TopicPartition(f.app().config().kafka().topic(), partition));
            return o == null ? -1 : o.offset();
        }
    }

    /** The sequence number of a MariaDB GTID position of one domain, "0-1-42" -> 42. */
    static long gtidSeq(String gtid) {
        return Long.parseLong(gtid.substring(gtid.lastIndexOf('-') + 1));
    }

    @Test
    void an_applier_commits_no_offset_above_a_message_its_lane_has_not_finished() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            useKafka(f, 1);
            SyncService publisher = publisher(f, true);
            publisher.start();
            f.onClose(publisher::shutdown);
            SyncFixture.awaitLeading(publisher);
            SyncService applier = applier(f, "a");
            String rowKey = f.activity + ":1";
            java.util.concurrent.atomic.AtomicLong rowOffset = new java.util.concurrent.atomic.AtomicLong(-1);
            applier.beforeRecord((group, r) -> {
                if (rowKey.equals(r.key())) {
                    rowOffset.set(r.offset());
                }
            });
            // the lane has written user 1's row to the side and is held before it counts it as done
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            SyncMetrics m = applier.metrics().get(0);
            m.observe((key, micros) -> {
                if (key.equals(f.key(f.activity, 1))) {
                    held.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            f.onClose(release::countDown);
            applier.start();
            f.onClose(applier::shutdown);
            SyncFixture.awaitLeading(applier);

            f.insertUsers(1, 1);
            assertTrue(held.await(30, TimeUnit.SECONDS), "the lane reached user 1's row");
            long since = System.currentTimeMillis();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (m.checkpointSavedAt() <= since && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertTrue(m.checkpointSavedAt() > since, "a commit round ran while the lane was held");
            String group = f.app().config().kafka().group("a");
            long committed = committed(f, group, 0);
            assertTrue(committed <= rowOffset.get(), "committed " + committed + " passes the unfinished message at "
                    + rowOffset.get());

            release.countDown();
            awaitCommittedToEnd(f, group, applier);
            assertTrue(committed(f, group, 0) > rowOffset.get());
        }
    }

    @Test
    void the_publisher_checkpoint_stays_below_a_transaction_the_broker_has_not_acknowledged() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            useKafka(f, 1);
            SyncService publisher = publisher(f, true);
            String rowKey = f.activity + ":1";
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            publisher.onAcknowledged(key -> {
                if (rowKey.equals(key)) {
                    held.countDown();
                    release.await();
                }
            });
            f.onClose(release::countDown);
            publisher.start();
            f.onClose(publisher::shutdown);
            SyncFixture.awaitLeading(publisher);

            long insertSeq;
            try (java.sql.Connection c = f.connect(); java.sql.Statement st = c.createStatement()) {
                f.insertUsers(c, 1, 1);
                try (java.sql.ResultSet rs = st.executeQuery("SELECT @@last_gtid")) {
                    rs.next();
                    insertSeq = gtidSeq(rs.getString(1));
                }
            }
            assertTrue(held.await(30, TimeUnit.SECONDS), "the broker acknowledged user 1's message");
            SyncMetrics m = publisher.metrics().get(0);
            long since = System.currentTimeMillis();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (m.checkpointSavedAt() <= since && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertTrue(m.checkpointSavedAt() > since, "a checkpoint round ran while the acknowledgement was held");
            BinlogPosition saved = f.repo().load(f.prefix + SyncService.PUBLISHER).orElseThrow();
            assertTrue(gtidSeq(saved.gtid()) < insertSeq, "checkpoint " + saved + " passes the insert, GTID seq " + insertSeq);

            release.countDown();
            until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (gtidSeq(f.repo().load(f.prefix + SyncService.PUBLISHER).orElseThrow().gtid()) < insertSeq
                    && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            assertTrue(gtidSeq(f.repo().load(f.prefix + SyncService.PUBLISHER).orElseThrow().gtid()) >= insertSeq);
        }
    }
    @Test
    void a_transaction_too_large_to_hold_goes_out_as_it_is_read_marked_with_where_it_starts() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            useKafka(f, 2);
            SyncService publisher = publisher(f, true);
            publisher.start();
            f.onClose(publisher::shutdown);
            SyncFixture.awaitLeading(publisher);
            int rows = KafkaPublisher.HOLD_AT + 500;
            long insertSeq;
            try (java.sql.Connection c = f.connect(); java.sql.Statement st = c.createStatement()) {
                f.insertUsers(c, 1, rows);
                try (java.sql.ResultSet rs = st.executeQuery("SELECT @@last_gtid")) {
                    rs.next();
                    insertSeq = gtidSeq(rs.getString(1));
                }
            }

            List<JsonNode> changes = new ArrayList<>();
            try (KafkaConsumer<String, byte[]> c = clients(f).consumer("it" + f.id + "-reader", "it-reader")) {
                c.subscribe(List.of(f.app().config().kafka().topic()));
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (changes.size() < rows && System.nanoTime() < until) {
                    for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                        JsonNode m = JSON.readTree(r.value());
                        if (!m.get("op").asText().equals("heartbeat")) {
                            changes.add(m);
                        }
                    }
                }
            }
            assertEquals(rows, changes.size());
            // one transaction: every message names the same place, where it starts
            assertEquals(1, changes.stream().map(m -> m.get("binlog").toString()).distinct().count());
            assertEquals("start", changes.get(0).at("/binlog/at").asText());
            // and the checkpoint passes it once every message is acknowledged
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < until
                    && gtidSeq(f.repo().load(f.prefix + SyncService.PUBLISHER).orElseThrow().gtid()) < insertSeq) {
                Thread.sleep(50);
            }
            assertTrue(gtidSeq(f.repo().load(f.prefix + SyncService.PUBLISHER).orElseThrow().gtid()) >= insertSeq);
        }
    }
}
