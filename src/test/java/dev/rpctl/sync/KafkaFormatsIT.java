package dev.rpctl.sync;

import dev.rpctl.config.Config;
import dev.rpctl.kafka.Change;
import dev.rpctl.kafka.FormatFixtures;
import dev.rpctl.kafka.MessageFormat;
import dev.rpctl.protocol.Entry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The golden fixtures of Debezium, Maxwell and Canal, through the broker and an applier, onto a side. */
class KafkaFormatsIT {

    @ParameterizedTest
    @ValueSource(strings = {"debezium", "maxwell", "canal"})
    void a_foreign_stream_is_applied_to_the_side_as_its_fixtures_say(String format) throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            KafkaPipelineIT.useKafka(f, 1);
            MessageFormat reader = FormatFixtures.format(format);
            Map<String, String> expected = new LinkedHashMap<>();
            Map<String, Long> ranks = new LinkedHashMap<>();
            String topic = f.app().config().kafka().topic();
            KafkaPipelineIT.clients(f).ensureTopic(topic);
            try (KafkaProducer<String, byte[]> p = KafkaPipelineIT.clients(f).producer("it-" + f.id)) {
                for (String file : FormatFixtures.expected(format).keySet()) {
                    byte[] value = FormatFixtures.value(format, file);
                    p.send(new ProducerRecord<>(topic, 0, file, value)).get();
                    // what the side must hold in the end: per key, the highest-ranked entry of its changes
                    for (Change c : reader.decode(value)) {
                        Entry e = c.kind() == Change.Kind.ROW ? Entry.row(c.row()) : Entry.tombstone(c.tombstoneVersion());
                        String key = f.key(c.activityId(), c.userId());
                        if (e.rank() > ranks.getOrDefault(key, -1L)) {
                            ranks.put(key, e.rank());
                            expected.put(key, e.encode());
                        }
                    }
                }
            }
            for (String key : expected.keySet()) {
                dev.rpctl.cache.RawRedis.call(f.app().side("a"), j -> j.del(key));
            }
            Config c = f.app().config();
            SyncService applier = new SyncService(f.repo(), f.app().sides("a"), f.app().protocol(), c.mapping(), c.sync(),
                    new SyncService.Options(f.prefix, false, false, SyncService.Mode.APPLY, reader),
                    KafkaPipelineIT.clients(f));
            applier.start();
            f.onClose(applier::shutdown);
            f.awaitSide("a", expected, 30);
            KafkaPipelineIT.awaitCommittedToEnd(f, c.kafka().group("a"), applier);
            assertEquals(0, applier.metrics().get(0).badData());
            // the stream carries no heartbeats: no end-to-end lag is claimed
            assertEquals(-1, applier.metrics().get(0).lagMillis(System.currentTimeMillis()));
        }
    }

    @Test
    void an_applier_of_a_foreign_stream_waits_for_its_topic_and_never_creates_it() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            KafkaPipelineIT.useKafka(f, 1);
            Config c = f.app().config();
            String topic = c.kafka().topic();
            MessageFormat reader = FormatFixtures.format("debezium");
            SyncService applier = new SyncService(f.repo(), f.app().sides("a"), f.app().protocol(), c.mapping(), c.sync(),
                    new SyncService.Options(f.prefix, false, false, SyncService.Mode.APPLY, reader),
                    KafkaPipelineIT.clients(f));
            applier.start();
            f.onClose(applier::shutdown);
            // a few looks for it later, the topic is still Debezium's to make, with its own partition count
            Thread.sleep(5_000);
            assertTrue(KafkaPipelineIT.clients(f).describeTopic(topic).isEmpty(), "the applier created " + topic);
            assertTrue(applier.metrics().get(0).waiting());
            assertNull(applier.failure());

            // a daemon stopped while it waits stops at once, cleanly
            SyncService stopped = new SyncService(f.repo(), f.app().sides("a"), f.app().protocol(), c.mapping(), c.sync(),
                    new SyncService.Options(f.prefix, false, false, SyncService.Mode.APPLY, reader),
                    KafkaPipelineIT.clients(f));
            stopped.start();
            Thread.sleep(3_000);
            long since = System.nanoTime();
            stopped.shutdown();
            long tookMillis = (System.nanoTime() - since) / 1_000_000;
            assertTrue(tookMillis < SyncService.STOP_BOUND.toMillis() / 2, "stopping took " + tookMillis + " ms");
            assertNull(stopped.failure());
            assertFalse(stopped.metrics().get(0).waiting());

            // the foreign pipeline creates it and writes its first change: applied
            try (var admin = KafkaPipelineIT.clients(f).admin()) {
                admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(10, TimeUnit.SECONDS);
            }
            Map<String, String> expected = new LinkedHashMap<>();
            // the first fixture with one change to apply
            String file = null;
            byte[] value = null;
            for (String name : FormatFixtures.expected("debezium").keySet()) {
                value = FormatFixtures.value("debezium", name);
                if (value != null && reader.decode(value).size() == 1) {
                    file = name;
                    break;
                }
            }
            assertNotNull(file);
            for (Change ch : reader.decode(value)) {
                expected.put(f.key(ch.activityId(), ch.userId()), ch.kind() == Change.Kind.ROW
                        ? Entry.row(ch.row()).encode() : Entry.tombstone(ch.tombstoneVersion()).encode());
                dev.rpctl.cache.RawRedis.call(f.app().side("a"), j -> j.del(f.key(ch.activityId(), ch.userId())));
            }
            try (KafkaProducer<String, byte[]> p = KafkaPipelineIT.clients(f).producer("it-" + f.id)) {
                p.send(new ProducerRecord<>(topic, 0, file, value)).get();
            }
            f.awaitSide("a", expected, 60);
            assertEquals(3, KafkaPipelineIT.clients(f).describeTopic(topic).orElseThrow());
        }
    }
}
