package dev.rpctl.sync;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.config.BadDataPolicy;
import dev.rpctl.config.SyncSettings;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.kafka.BadMessageException;
import dev.rpctl.kafka.Change;
import dev.rpctl.kafka.KafkaClients;
import dev.rpctl.kafka.MessageFormat;
import dev.rpctl.kafka.RpctlFormat;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.VersionOutOfRangeException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One applier of one side in Kafka mode ({@code sync-daemon --source kafka}): a member of the
 * side's consumer group that applies its partitions' messages to the side through the same
 * ordered lanes as a direct pipeline (a user's messages are in one partition, in order, and go to
 * one lane). Several appliers of a side share the partitions; Kafka moves a dead one's partitions
 * to the others.
 * <p>
 * Offsets: a partition's offset is committed only below messages whose every change is on the
 * side ({@link OffsetTracker}), every checkpoint interval, and when partitions are revoked (after
 * their applied messages, waiting a bounded time for those in the lanes). What was applied but not
 * committed is applied again by the next owner: equal versions are no-ops.
 */
final class KafkaApplier {
    private static final Logger log = LoggerFactory.getLogger(KafkaApplier.class);
    /** How long a rebalance waits for the lanes to finish a revoked partition's messages before committing. */
    private static final Duration REVOKE_WAIT = Duration.ofSeconds(5);

    /** One assigned partition: its offsets, and the newest heartbeat applied from it. */
    private static final class Partition {
        final OffsetTracker offsets = new OffsetTracker();
        volatile long beatMillis;
        /** The lag of the newest heartbeat applied from this partition (apply minus write time); -1 before one. */
        volatile long beatLag = -1;
        long committed = -1;
    }

    /** Test hook: runs on the poll thread before a message is routed. */
    interface RecordHook {
        void before(String group, ConsumerRecord<String, byte[]> record) throws InterruptedException;
    }

    private final String group;
    private final CacheSide side;
    private final CacheProtocol protocol;
    private final SyncSettings settings;
    private final KafkaClients clients;
    private final MessageFormat format;
    private final SyncMetrics metrics;
    private final RecordHook hook;
    private final String topic;
    private final Map<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    private final List<Lane> lanes = new ArrayList<>();
    private final List<Thread> laneThreads = new ArrayList<>();
    private KafkaConsumer<String, byte[]> consumer;
    private final String deadLetterTopic;
    /** The dead-letter producer, made at the first bad message; poll thread only. */
    private KafkaProducer<String, byte[]> deadLetters;
    private volatile boolean stopRequested;
    private volatile boolean drainAtStop = true;
    private volatile RpctlException failure;
    private long appliedBeat;

    KafkaApplier(String group, CacheSide side, CacheProtocol protocol, SyncSettings settings, KafkaClients clients,
                 MessageFormat format, SyncMetrics metrics, RecordHook hook) {
        this.group = group;
        this.side = side;
        this.protocol = protocol;
        this.settings = settings;
        this.clients = clients;
        this.format = format;
        this.metrics = metrics;
        this.hook = hook;
        this.topic = clients.settings().topic();
        this.deadLetterTopic = clients.settings().deadLetterTopic();
    }

    /**
     * Consumes until {@link #stop} or a failure; on the way out, with a drain, lets the lanes write
     * what they hold and commits what is applied.
     *
     * @throws RpctlException what ended it: bad data under sync.on-bad-data=fail (65)
     */
    void run() throws InterruptedException {
        if (format instanceof RpctlFormat) {
            clients.ensureTopic(topic);
        } else if (!awaitForeignTopic()) {
            return;
        }
        for (int i = 0; i < settings.lanes(); i++) {
            Lane lane = new Lane(group + "-" + i, settings.queueCapacity(), settings.batchSize(), side, protocol, metrics,
                    settings.onBadData(), this::laneFailed);
            lanes.add(lane);
            Thread t = new Thread(lane, "lane-" + group + "-" + i);
            t.setDaemon(true);
            t.start();
            laneThreads.add(t);
        }
        metrics.laneDepths(() -> lanes.stream().map(Lane::depth).toList());
        if (!(format instanceof RpctlFormat)) {
            metrics.withoutHeartbeats();
        }
        consumer = clients.consumer(group, "rpctl-" + group + "-" + PipelineLock.PROCESS);
        metrics.waiting(true);
        log.info("applier {}: side {} at {}, from topic {} at {}", group, side.name(), side.address(), topic,
                clients.settings().bootstrap());
        long nextCommit = System.currentTimeMillis() + settings.checkpointInterval().toMillis();
        try {
            consumer.subscribe(List.of(topic), new Rebalance());
            while (!stopRequested) {
                ConsumerRecords<String, byte[]> records;
                try {
                    records = consumer.poll(Duration.ofMillis(100));
                } catch (WakeupException e) {
                    break;
                }
                try {
                    for (ConsumerRecord<String, byte[]> r : records) {
                        route(r);
                    }
                } catch (StopRouting e) {
                    break;
                }
                long now = System.currentTimeMillis();
                if (now >= nextCommit) {
                    commit(false, partitions.keySet());
                    nextCommit = now + settings.checkpointInterval().toMillis();
                    consumerLag();
                }
            }
        } catch (KafkaException e) {
            if (e instanceof InterruptException || e instanceof WakeupException) {
                throw e;
            }
            // the broker refused the group or the topic (77), or the client its configuration (78)
            RpctlException why = clients.failure(e, KafkaClients.Use.CONSUME, topic);
            synchronized (this) {
                if (failure == null) {
                    failure = new RpctlException(why.exitCode(), "applier " + group + ": " + why.getMessage(), e);
                }
            }
        } finally {
            finish();
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * A foreign stream's topic is its pipeline's to create (Debezium and the others make it at
     * their first change, with their own settings): waits for it, saying so once, never makes it.
     * A broker that does not answer meanwhile is waited for too, as the consumer would; an ACL
     * refusing the describe ends the applier (77).
     *
     * @return false when stopped before the topic came
     */
    private boolean awaitForeignTopic() throws InterruptedException {
        boolean told = false;
        boolean down = false;
        try (Admin admin = clients.admin()) {
            while (!stopRequested) {
                Optional<Integer> partitions;
                try {
                    partitions = clients.describeTopic(admin, topic, FOREIGN_TOPIC_POLL_MS);
                } catch (RpctlException e) {
                    if (stopRequested) {
                        break;
                    }
                    if (e.exitCode() != ExitCode.UNAVAILABLE) {
                        throw e;
                    }
                    metrics.errors.incrementAndGet();
                    if (!down) {
                        down = true;
                        log.warn("applier {}: {}; looking for topic {} again every {} s", group, e.getMessage(), topic,
                                FOREIGN_TOPIC_POLL_MS / 1000);
                    }
                    partitions = null;
                }
                if (partitions != null) {
                    if (down) {
                        down = false;
                        log.info("applier {}: kafka at {} answers again", group, clients.settings().bootstrap());
                    }
                    if (partitions.isPresent()) {
                        if (told) {
                            log.info("applier {}: topic {} exists now", group, topic);
                        }
                        return true;
                    }
                    if (!told) {
                        told = true;
                        metrics.waiting(true);
                        log.warn("applier {}: topic {} does not exist at {}; waiting for the {} pipeline to create it"
                                + " (check kafka.topic)", group, topic, clients.settings().bootstrap(), format.name());
                    }
                }
                for (int i = 0; i < FOREIGN_TOPIC_POLL_MS / 100 && !stopRequested; i++) {
                    Thread.sleep(100);
                }
            }
        }
        metrics.waiting(false);
        return false;
    }

    /** How often a missing foreign topic is looked for. */
    private static final int FOREIGN_TOPIC_POLL_MS = 2_000;

    /** Asks {@link #run} to end: with {@code drain} after writing what the lanes hold, else at once, committing nothing more. */
    void stop(boolean drain) {
        drainAtStop = drain;
        stopRequested = true;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    private void finish() {
        try {
            if (drainAtStop) {
                lanes.forEach(Lane::drain);
                long until = System.nanoTime() + SyncService.STOP_BOUND.toNanos() / 2;
                for (Thread t : laneThreads) {
                    t.join(Math.max(1, (until - System.nanoTime()) / 1_000_000));
                }
                commit(true, partitions.keySet());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("applier {}: committing offsets at shutdown failed: {}", group, RpctlException.rootMessage(e));
        } finally {
            lanes.forEach(Lane::abort);
            laneThreads.forEach(Thread::interrupt);
            if (deadLetters != null) {
                deadLetters.close(Duration.ofSeconds(2));
            }
            try {
                consumer.close(Duration.ofSeconds(drainAtStop ? 2 : 0));
            } catch (RuntimeException e) {
                log.debug("applier {}: closing the consumer: {}", group, RpctlException.rootMessage(e));
            }
            metrics.leader(false);
            metrics.connected(false);
            metrics.waiting(false);
        }
    }

    private void laneFailed(RpctlException e) {
        synchronized (this) {
            if (failure != null) {
                return;
            }
            failure = new RpctlException(e.exitCode(), "applier " + group + ": " + e.getMessage(), e);
        }
        stop(false);
    }

    /** Hands a message's changes to the lanes; the message counts as applied once all of them are written. */
    private void route(ConsumerRecord<String, byte[]> r) throws InterruptedException {
        metrics.events.incrementAndGet();
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        Partition p = partitions.computeIfAbsent(tp, k -> new Partition());
        TxTracker.Tx tx = p.offsets.read(r.offset());
        boolean stopped = false;
        try {
            if (hook != null) {
                hook.before(group, r);
            }
            int bytes = Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize());
            if (bytes > clients.settings().maxMessageBytes()) {
                badMessage(r, "it holds " + bytes + " bytes, more than sync.max-event-bytes ("
                        + clients.settings().maxMessageBytes() + "); not read");
                return;
            }
            List<Change> changes;
            try {
                changes = format.decode(r.value());
                for (Change c : changes) {
                    if (c.kind() == Change.Kind.ROW) {
                        Entry.checkRowVersion(c.row().version());
                    }
                }
            } catch (BadMessageException | VersionOutOfRangeException e) {
                badMessage(r, e.getMessage());
                return;
            }
            for (Change c : changes) {
                put(p, tx, c);
            }
        } catch (RuntimeException | Error e) {
            // the message stays unfinished, whatever stopped it: no offset passes it
            stopped = true;
            throw e;
        } catch (InterruptedException e) {
            stopped = true;
            throw e;
        } finally {
            if (!stopped) {
                tx.done();
            }
        }
    }

    private void put(Partition p, TxTracker.Tx tx, Change c) throws InterruptedException {
        switch (c.kind()) {
            case ROW -> {
                tx.add();
                lane(c.userId()).put(new Lane.Item(protocol.key(c.activityId(), c.userId()), Entry.row(c.row()),
                        c.activityId(), c.userId(), tx, null, c.row().updatedAtMillis()));
            }
            case TOMBSTONE -> {
                tx.add();
                lane(c.userId()).put(new Lane.Item(protocol.key(c.activityId(), c.userId()),
                        Entry.tombstone(c.tombstoneVersion()), c.activityId(), c.userId(), tx, null, -1));
            }
            case BEAT -> {
                // behind whatever every lane holds from this partition: applied, all before it is
                Lane.Beat b = new Lane.Beat(c.beatMillis(), lanes.size(), now -> beatApplied(p, c.beatMillis(), now));
                for (Lane lane : lanes) {
                    tx.add();
                    lane.put(new Lane.Item(null, null, -1, -1, tx, b, -1));
                }
            }
        }
    }

    private Lane lane(long userId) {
        return lanes.get(Pipeline.laneOf(userId, lanes.size()));
    }

    /**
     * The side's end-to-end lag is that of its slowest partition: the heartbeat applied everywhere
     * is the oldest of the partitions' newest.
     */
    private synchronized void beatApplied(Partition p, long beatMillis, long now) {
        if (beatMillis > p.beatMillis) {
            p.beatMillis = beatMillis;
            p.beatLag = Math.max(0, now - beatMillis);
        }
        long oldest = Long.MAX_VALUE;
        for (Partition q : partitions.values()) {
            oldest = Math.min(oldest, q.beatMillis);
        }
        if (oldest > appliedBeat && oldest != Long.MAX_VALUE) {
            appliedBeat = oldest;
            metrics.beatApplied(oldest, now);
        }
    }

    /** A message the format cannot read, by sync.on-bad-data: fail (exit 65, naming where it is), warn, or count only. */
    private void badMessage(ConsumerRecord<String, byte[]> r, String problem) {
        metrics.badData.incrementAndGet();
        String where = "topic " + r.topic() + " partition " + r.partition() + " offset " + r.offset();
        BadDataPolicy policy = settings.onBadData();
        if (policy == BadDataPolicy.FAIL) {
            RpctlException e = RpctlException.badData("applier " + group + ": bad message at " + where + ": " + problem
                    + " (sync.on-bad-data=fail; set it to warn or skip to go past it)");
            synchronized (this) {
                if (failure == null) {
                    failure = e;
                }
            }
            // what came before it is written and committed; nothing from it on: the next start reads it again
            stopRequested = true;
            throw new StopRouting();
        }
        if (policy == BadDataPolicy.WARN) {
            log.warn("applier {}: bad message at {}: {}; skipped{}", group, where, problem,
                    deadLetterTopic.isEmpty() ? "" : ", copied to " + deadLetterTopic);
        }
        if (!deadLetterTopic.isEmpty()) {
            deadLetter(r, problem);
        }
    }

    /** The largest value copied to the dead-letter topic: below Kafka's default message limit, with room for headers. */
    static final int DEAD_LETTER_VALUE_MAX = 900 * 1024;

    /**
     * Copies a bad message to kafka.dead-letter-topic, with headers naming where it was and why,
     * before it counts as done: a copy that the broker does not take ends the applier (69; 77 when
     * its ACLs refuse), and the message is read again at the next start.
     */
    private void deadLetter(ConsumerRecord<String, byte[]> r, String problem) {
        // a value the producer's and the broker's default limits (1 MiB a message) would refuse goes
        // without it: the headers say where the message is and how big it was
        int size = r.value() == null ? 0 : r.value().length;
        boolean whole = size <= DEAD_LETTER_VALUE_MAX;
        ProducerRecord<String, byte[]> copy = new ProducerRecord<>(deadLetterTopic, r.key(), whole ? r.value() : null);
        if (!whole) {
            copy.headers().add("rpctl-value-dropped", bytes(Integer.toString(size)));
        }
        copy.headers().add("rpctl-topic", bytes(r.topic()));
        copy.headers().add("rpctl-partition", bytes(Integer.toString(r.partition())));
        copy.headers().add("rpctl-offset", bytes(Long.toString(r.offset())));
        copy.headers().add("rpctl-group", bytes(group));
        copy.headers().add("rpctl-error", bytes(problem));
        try {
            if (deadLetters == null) {
                clients.ensureTopic(deadLetterTopic);
                deadLetters = clients.producer("rpctl-" + group + "-dead-letters-" + PipelineLock.PROCESS);
            }
            deadLetters.send(copy).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StopRouting();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            RpctlException why = e instanceof RpctlException known ? known
                    : clients.failure(e, KafkaClients.Use.PUBLISH, deadLetterTopic);
            RpctlException failed = new RpctlException(why.exitCode(), "applier " + group + ": could not copy the bad"
                    + " message at topic " + r.topic() + " partition " + r.partition() + " offset " + r.offset() + " to "
                    + deadLetterTopic + ": " + (why.exitCode() == ExitCode.UNAVAILABLE ? RpctlException.rootMessage(e)
                    : why.getMessage()), e);
            synchronized (this) {
                if (failure == null) {
                    failure = failed;
                }
            }
            stop(false);
            throw new StopRouting();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Ends the routing of a poll's messages after a bad one under the fail policy. */
    private static final class StopRouting extends RuntimeException {
        StopRouting() {
            super(null, null, false, false);
        }
    }

    /** Commits, for the given partitions, the offsets below which everything is applied. */
    private void commit(boolean sync, Collection<TopicPartition> which) {
        if (failure != null && !drainAtStop) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (TopicPartition tp : which) {
            Partition p = partitions.get(tp);
            if (p == null) {
                continue;
            }
            long next = p.offsets.advance();
            if (next > p.committed) {
                // the lag goes with the offset, for 'rpctl status' to read from the broker
                out.put(tp, new OffsetAndMetadata(next, p.beatLag < 0 ? ""
                        : KafkaClients.commitMetadata(p.beatMillis, p.beatLag, System.currentTimeMillis())));
                p.committed = next;
            }
        }
        // when the applier last looked at what it can commit, whether or not anything moved
        metrics.checkpointSaved(metrics.checkpoint(), System.currentTimeMillis());
        if (out.isEmpty()) {
            return;
        }
        if (sync) {
            consumer.commitSync(out, Duration.ofSeconds(5));
        } else {
            consumer.commitAsync(out, (offsets, e) -> {
                if (e != null) {
                    metrics.errors.incrementAndGet();
                    if (e instanceof RebalanceInProgressException) {
                        // every commit while the group rebalances (a member joining or leaving) meets this: not news
                        log.debug("applier {}: committing offsets waits for the rebalance: {}", group,
                                RpctlException.rootMessage(e));
                    } else {
                        log.warn("applier {}: committing offsets failed: {}; the next commit covers them", group,
                                RpctlException.rootMessage(e));
                    }
                    // committed again next time round
                    offsets.keySet().forEach(tp -> {
                        Partition p = partitions.get(tp);
                        if (p != null) {
                            p.committed = -1;
                        }
                    });
                }
            });
        }
    }

    /** Messages the group has not yet read in this applier's partitions (the consumer's own view). */
    private void consumerLag() {
        long lag = 0;
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong l = consumer.currentLag(tp);
            if (l.isPresent()) {
                lag += l.getAsLong();
            }
        }
        metrics.consumerLag(lag);
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            if (revoked.isEmpty()) {
                return;
            }
            // the lanes finish the revoked partitions' messages, within a bound; what is applied is committed
            long until = System.nanoTime() + REVOKE_WAIT.toNanos();
            for (TopicPartition tp : revoked) {
                Partition p = partitions.get(tp);
                while (p != null && !p.offsets.idle() && System.nanoTime() < until && failure == null) {
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
            try {
                commit(true, revoked);
            } catch (RuntimeException e) {
                log.warn("applier {}: committing revoked partitions failed: {}; their next owner applies them again",
                        group, RpctlException.rootMessage(e));
            }
            revoked.forEach(partitions::remove);
            log.info("applier {}: gave up partitions {}", group, revoked);
            assigned();
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            // already another member's: nothing may be committed for them
            lost.forEach(partitions::remove);
            log.warn("applier {}: lost partitions {}", group, lost);
            assigned();
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> added) {
            for (TopicPartition tp : added) {
                partitions.putIfAbsent(tp, new Partition());
            }
            if (!added.isEmpty()) {
                log.info("applier {}: took partitions {}", group, added);
            }
            assigned();
        }
    }

    private void assigned() {
        boolean any = !partitions.isEmpty();
        metrics.waiting(!any);
        metrics.leader(any);
        metrics.connected(any);
    }
}
