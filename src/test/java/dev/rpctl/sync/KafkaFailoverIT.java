package dev.rpctl.sync;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Kafka mode when a process dies: appliers of one group share and take over partitions; a publisher resumes. */
class KafkaFailoverIT {
    private static final long USERS = 6000;
    private static final long CHUNK = 100;

    /**
     * Writes users 1..USERS in transactions of CHUNK, each chunk's first ten updated again at once,
     * by plain SQL; opens {@code half} once half is written.
     */
    private static Thread load(SyncFixture f, CountDownLatch half, AtomicReference<Throwable> failed) {
        Thread t = new Thread(() -> {
            try {
                for (long from = 1; from <= USERS; from += CHUNK) {
                    f.insertUsers(from, from + CHUNK - 1);
                    f.sql("UPDATE " + f.table + " SET amount = amount + 1, version = version + 1"
                            + " WHERE activity_id = " + f.activity + " AND user_id BETWEEN " + from + " AND " + (from + 9));
                    if (from + CHUNK - 1 >= USERS / 2) {
                        half.countDown();
                    }
                }
            } catch (Throwable e) {
                failed.set(e);
                half.countDown();
            }
        }, "load");
        t.start();
        return t;
    }

    /** Waits until the group has {@code members} members, each with partitions; fails after 60 s. */
    private static void awaitMembers(SyncFixture f, String group, int members) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "";
        try (Admin admin = KafkaPipelineIT.clients(f).admin()) {
            while (System.nanoTime() < until) {
                ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                List<MemberDescription> m = List.copyOf(d.members());
                if (m.size() == members && m.stream().allMatch(x -> !x.assignment().topicPartitions().isEmpty())) {
                    return;
                }
                last = d.state() + " " + m.stream().map(x -> x.clientId() + "=" + x.assignment().topicPartitions()).toList();
                Thread.sleep(200);
            }
        }
        fail("group " + group + " did not have " + members + " members with partitions: " + last);
    }

    private static Map<String, String> expectedAfterLoad(SyncFixture f) throws Exception {
        Map<String, String> expected = new LinkedHashMap<>(f.expectedRows());
        assertEquals(USERS, expected.size());
        assertTrue(expected.get(f.key(f.activity, 1)).startsWith("R|2|11|"), expected.get(f.key(f.activity, 1)));
        return expected;
    }

    @Test
    void an_applier_killed_under_load_hands_its_partitions_to_the_other_and_every_row_is_right() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            KafkaPipelineIT.useKafka(f, 4);
            SyncService publisher = KafkaPipelineIT.publisher(f, true);
            publisher.start();
            f.onClose(publisher::shutdown);
            SyncFixture.awaitLeading(publisher);

            SyncService inProcess = KafkaPipelineIT.applier(f, "all");
            inProcess.start();
            f.onClose(inProcess::shutdown);
            Process other = f.rpctl("applier", "sync-daemon", "--source", "kafka", "--side", "all",
                    "--metrics", "127.0.0.1:" + SyncFixture.freePort());
            String groupA = f.app().config().kafka().group("a");
            String groupB = f.app().config().kafka().group("b");
            awaitMembers(f, groupA, 2);
            awaitMembers(f, groupB, 2);

            CountDownLatch half = new CountDownLatch(1);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread writer = load(f, half, failed);
            assertTrue(half.await(120, TimeUnit.SECONDS));
            other.destroyForcibly();
            assertTrue(other.waitFor(10, TimeUnit.SECONDS));
            assertEquals(137, other.exitValue(), "killed with -9");
            writer.join(TimeUnit.MINUTES.toMillis(3));
            if (failed.get() != null) {
                throw new AssertionError("the load failed", failed.get());
            }

            Map<String, String> expected = expectedAfterLoad(f);
            f.awaitSide("a", expected, 90);
            f.awaitSide("b", expected, 90);
            awaitMembers(f, groupA, 1);
            KafkaPipelineIT.awaitCommittedToEnd(f, groupA);
            KafkaPipelineIT.awaitCommittedToEnd(f, groupB);
        }
    }

    @Test
    void a_publisher_killed_under_load_and_started_again_loses_nothing() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            KafkaPipelineIT.useKafka(f, 4);
            Process first = f.rpctl("publisher-1", "sync-daemon", "--sink", "kafka", "--from-now",
                    "--pipeline-prefix", f.prefix, "--metrics", "127.0.0.1:" + SyncFixture.freePort());
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (f.repo().load(f.prefix + SyncService.PUBLISHER).isEmpty() && System.nanoTime() < until) {
                assertTrue(first.isAlive(), () -> "the publisher exited: " + stderr(f, "publisher-1"));
                Thread.sleep(100);
            }
            assertTrue(f.repo().load(f.prefix + SyncService.PUBLISHER).isPresent(), "the publisher saved its start");
            SyncService applier = KafkaPipelineIT.applier(f, "all");
            applier.start();
            f.onClose(applier::shutdown);

            CountDownLatch half = new CountDownLatch(1);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread writer = load(f, half, failed);
            assertTrue(half.await(120, TimeUnit.SECONDS));
            first.destroyForcibly();
            assertTrue(first.waitFor(10, TimeUnit.SECONDS));
            // from its checkpoint: whatever the first sent and did not checkpoint is sent again
            f.rpctl("publisher-2", "sync-daemon", "--sink", "kafka", "--pipeline-prefix", f.prefix,
                    "--metrics", "127.0.0.1:" + SyncFixture.freePort());
            writer.join(TimeUnit.MINUTES.toMillis(3));
            if (failed.get() != null) {
                throw new AssertionError("the load failed", failed.get());
            }

            Map<String, String> expected = expectedAfterLoad(f);
            f.awaitSide("a", expected, 90);
            f.awaitSide("b", expected, 90);
        }
    }

    private static String stderr(SyncFixture f, String name) {
        try {
            return f.stderr(name);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
    /** The partition the producer's default partitioner gives a key, among {@code n}. */
    private static int partitionOf(String key, int n) {
        return org.apache.kafka.common.utils.Utils.toPositive(
                org.apache.kafka.common.utils.Utils.murmur2(key.getBytes(java.nio.charset.StandardCharsets.UTF_8))) % n;
    }

    @Test
    void a_partition_revoked_while_its_message_is_unfinished_is_committed_only_below_it_and_its_next_owner_applies_it()
            throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            KafkaPipelineIT.useKafka(f, 2);
            f.env.put("RPCTL_SYNC_LANES", "2");
            // one user in each partition, each on a lane of its own: both lanes are held with a message unfinished
            long[] held = new long[2];
            for (long u = 1; held[0] == 0 || held[1] == 0; u++) {
                int p = partitionOf(dev.rpctl.kafka.RpctlFormat.key(f.activity, u), 2);
                if (held[p] == 0 && Pipeline.laneOf(u, 2) == p) {
                    held[p] = u;
                }
            }
            SyncService publisher = KafkaPipelineIT.publisher(f, true);
            publisher.start();
            f.onClose(publisher::shutdown);
            SyncFixture.awaitLeading(publisher);

            SyncService first = KafkaPipelineIT.applier(f, "a");
            Map<String, Long> offsets = new java.util.concurrent.ConcurrentHashMap<>();
            first.beforeRecord((group, r) -> offsets.put(r.key(), r.offset()));
            CountDownLatch reached = new CountDownLatch(2);
            CountDownLatch release = new CountDownLatch(1);
            java.util.Set<String> heldKeys = java.util.Set.of(f.key(f.activity, held[0]), f.key(f.activity, held[1]));
            first.metrics().get(0).observe((key, micros) -> {
                if (heldKeys.contains(key) && Thread.currentThread().getName().startsWith("lane-")) {
                    reached.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            f.onClose(release::countDown);
            first.start();
            f.onClose(first::shutdown);
            String group = f.app().config().kafka().group("a");
            awaitMembers(f, group, 1);
            f.insertUsers(1, Math.max(held[0], held[1]) + 20);
            assertTrue(reached.await(30, TimeUnit.SECONDS), "both lanes hold their user's row");

            // a second applier joins: one partition is revoked from the first while its message is unfinished
            SyncService second = KafkaPipelineIT.applier(f, "a");
            Map<String, Integer> secondRead = new java.util.concurrent.ConcurrentHashMap<>();
            second.beforeRecord((group2, r) -> secondRead.put(r.key(), r.partition()));
            second.start();
            f.onClose(second::shutdown);
            awaitMembers(f, group, 2);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (secondRead.isEmpty() && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertFalse(secondRead.isEmpty(), "the second applier read nothing in 30 s of its partition");
            int moved = secondRead.values().iterator().next();
            // the first committed the moved partition only below its unfinished message: its new owner reads it again
            String movedKey = dev.rpctl.kafka.RpctlFormat.key(f.activity, held[moved]);
            until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!secondRead.containsKey(movedKey) && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertTrue(secondRead.containsKey(movedKey), "partition " + moved + " was committed past user " + held[moved]
                    + "'s unfinished message at " + offsets.get(movedKey) + "; its new owner read from "
                    + KafkaPipelineIT.committed(f, group, moved));
            // the partition the first kept is still held below its unfinished message
            long kept = offsets.get(dev.rpctl.kafka.RpctlFormat.key(f.activity, held[1 - moved]));
            assertTrue(KafkaPipelineIT.committed(f, group, 1 - moved) <= kept);

            release.countDown();
            Map<String, String> expected = f.expectedRows();
            f.awaitSide("a", expected, 60);
            KafkaPipelineIT.awaitCommittedToEnd(f, group);
        }
    }
}
