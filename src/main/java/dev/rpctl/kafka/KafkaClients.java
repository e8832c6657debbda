package dev.rpctl.kafka;

import dev.rpctl.config.KafkaSettings;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The Kafka clients of rpctl, configured once: the publisher's producer, the appliers' consumers, the admin. */
public final class KafkaClients {
    private static final Logger log = LoggerFactory.getLogger(KafkaClients.class);
    /** How long an admin request (topic creation, offsets) may take before Kafka counts as unreachable. */
    private static final long ADMIN_TIMEOUT_MS = 10_000;

    private final KafkaSettings settings;
    private final KafkaSecurity security;

    public KafkaClients(KafkaSettings settings) {
        this.settings = settings;
        this.security = new KafkaSecurity(settings);
        security.warnAtStart();
    }

    public KafkaSettings settings() {
        return settings;
    }

    /**
     * The publisher's producer: idempotent, acknowledged by every in-sync replica, so a retried
     * send neither duplicates nor reorders a partition's messages; it waits at most 1 ms to batch.
     */
    public KafkaProducer<String, byte[]> producer(String clientId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrap());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        security.apply(p);
        try {
            return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        } catch (KafkaException e) {
            throw failure(e, Use.PUBLISH, null);
        }
    }

    /** An applier's consumer in {@code group}: offsets are committed by the applier, never automatically. */
    public KafkaConsumer<String, byte[]> consumer(String group, String clientId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // a broker that creates topics on demand would make a missing one with its own partition count
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        // a dead applier's partitions move to the others within this
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
        // what one fetch may bring; a single batch above it still comes (Kafka's rule, so a consumer
        // never sticks), and the applier passes a message above sync.max-event-bytes over as bad data
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, settings.maxMessageBytes());
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Math.min(1 << 20, settings.maxMessageBytes()));
        security.apply(p);
        try {
            return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        } catch (KafkaException e) {
            throw failure(e, Use.CONSUME, settings.topic());
        }
    }

    /** @throws RpctlException 78 when the client refuses its configuration (kafka.bootstrap resolves to nothing) */
    public Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrap());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT_MS);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT_MS);
        security.apply(p);
        try {
            return Admin.create(p);
        } catch (KafkaException e) {
            throw failure(e, Use.DESCRIBE, null);
        }
    }

    /**
     * The partition count of {@code topic}, creating it with kafka.partitions when it is missing.
     *
     * @throws RpctlException 69 when no broker answers, 77 when the broker's ACLs refuse, 78 when
     *                        the broker refuses to create the topic as configured
     */
    public int ensureTopic(String topic) {
        try (Admin admin = admin()) {
            return ensureTopic(admin, topic);
        }
    }

    /**
     * The partition count of {@code topic}, or empty when it does not exist; creates nothing.
     *
     * @throws RpctlException 69 when no broker answers, 77 when the broker's ACLs refuse
     */
    public Optional<Integer> describeTopic(String topic) {
        try (Admin admin = admin()) {
            return describeTopic(admin, topic, ADMIN_TIMEOUT_MS);
        }
    }

    /** As {@link #describeTopic(String)}, through the given client, waiting at most {@code timeoutMillis}. */
    public Optional<Integer> describeTopic(Admin admin, String topic, long timeoutMillis) {
        try {
            return partitions(admin, topic, timeoutMillis);
        } catch (KafkaUnavailable e) {
            throw failure(e.getCause(), Use.DESCRIBE, topic);
        } catch (TimeoutException e) {
            throw unavailable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw RpctlException.temporary("interrupted while describing topic " + topic);
        }
    }

    /** {@link #ensureTopic(String)} through the given client. */
    int ensureTopic(Admin admin, String topic) {
        try {
            Optional<Integer> have = describeTopic(admin, topic, ADMIN_TIMEOUT_MS);
            if (have.isPresent()) {
                return have.get();
            }
            CreateTopicsResult created = admin.createTopics(List.of(
                    new NewTopic(topic, Optional.of(settings.partitions()), Optional.empty())));
            try {
                created.values().get(topic).get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw failure(e.getCause(), Use.CREATE, topic);
                }
            }
            try {
                // the count comes with the controller's answer: a broker's metadata takes the new topic
                // a moment later (under KRaft it is applied after the answer), so describing it at once can miss it
                return created.numPartitions(topic).get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                // no count: the topic existed already (another client created it at the same moment), the
                // broker is older than 2.4, or the principal may create the topic but not describe its configs
                log.debug("topic {}: no partition count with the create answer: {}", topic, RpctlException.rootMessage(e));
            }
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ADMIN_TIMEOUT_MS);
            while (true) {
                Optional<Integer> now = describeTopic(admin, topic, Math.max(1, (until - System.nanoTime()) / 1_000_000));
                if (now.isPresent()) {
                    return now.get();
                }
                if (System.nanoTime() >= until) {
                    throw unavailable(new IllegalStateException("topic " + topic + " exists but " + settings.bootstrap()
                            + " did not describe it within " + ADMIN_TIMEOUT_MS + " ms"));
                }
                Thread.sleep(50);
            }
        } catch (TimeoutException e) {
            throw unavailable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw RpctlException.temporary("interrupted while creating topic " + topic);
        }
    }

    /** The topic's partition count, or empty when it does not exist. */
    public static Optional<Integer> partitions(Admin admin, String topic) throws InterruptedException, TimeoutException {
        return partitions(admin, topic, ADMIN_TIMEOUT_MS);
    }

    /** As {@link #partitions(Admin, String)}, waiting at most {@code timeoutMillis} for the answer. */
    static Optional<Integer> partitions(Admin admin, String topic, long timeoutMillis) throws InterruptedException, TimeoutException {
        try {
            Map<String, TopicDescription> d = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(timeoutMillis, TimeUnit.MILLISECONDS);
            return Optional.of(d.get(topic).partitions().size());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return Optional.empty();
            }
            throw new KafkaUnavailable(e.getCause());
        }
    }

    /**
     * A side's consumer group as the broker has it: members, messages of the topic not yet
     * committed, and the end-to-end lag its appliers recorded with their last commits (see
     * {@link #commitMetadata}), plus however long a partition's commits have stopped beyond
     * {@code commitIntervalMillis}; -1 where no applier recorded one.
     */
    public record GroupLag(String group, int members, long lagMessages, long lagMillis) {}

    /** What an applier records with a partition's offset: its newest applied heartbeat, its lag then, and when. */
    public static String commitMetadata(long beatMillis, long lagMillis, long atMillis) {
        return "beat=" + beatMillis + ";lag=" + lagMillis + ";at=" + atMillis;
    }

    /** @throws RpctlException 69 when no broker answers */
    public GroupLag groupLag(String group, String topic, long commitIntervalMillis) {
        try (Admin admin = admin()) {
            int members = admin.describeConsumerGroups(List.of(group)).all().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .get(group).members().size();
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            Optional<Integer> n = partitions(admin, topic);
            if (n.isEmpty()) {
                return new GroupLag(group, members, 0, -1);
            }
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            for (int p = 0; p < n.get(); p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
                earliest.put(new TopicPartition(topic, p), OffsetSpec.earliest());
            }
            var ends = admin.listOffsets(latest).all().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            var starts = admin.listOffsets(earliest).all().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            long now = System.currentTimeMillis();
            long messages = 0;
            long lag = -1;
            for (TopicPartition tp : latest.keySet()) {
                OffsetAndMetadata c = committed.get(tp);
                long from = c != null ? c.offset() : starts.get(tp).offset();
                messages += Math.max(0, ends.get(tp).offset() - from);
                long recorded = c == null ? -1 : recordedLag(c.metadata(), now, commitIntervalMillis);
                lag = recorded < 0 ? lag : Math.max(lag, recorded);
            }
            return new GroupLag(group, members, messages, lag);
        } catch (ExecutionException | KafkaUnavailable e) {
            throw failure(e.getCause(), Use.DESCRIBE, topic);
        } catch (TimeoutException e) {
            throw unavailable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw RpctlException.temporary("interrupted while reading group " + group);
        }
    }

    private static long recordedLag(String metadata, long now, long commitIntervalMillis) {
        if (metadata == null || metadata.isEmpty()) {
            return -1;
        }
        long lag = -1;
        long at = -1;
        for (String part : metadata.split(";")) {
            String[] kv = part.split("=", 2);
            try {
                if (kv.length == 2 && kv[0].equals("lag")) {
                    lag = Long.parseLong(kv[1]);
                } else if (kv.length == 2 && kv[0].equals("at")) {
                    at = Long.parseLong(kv[1]);
                }
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return lag < 0 || at < 0 ? -1 : lag + Math.max(0, now - at - commitIntervalMillis);
    }

    /**
     * What a Kafka client was doing, for naming the ACL operation a refusal is about: per kind
     * of resource (topic, consumer group, cluster), the operation the broker checks.
     */
    public enum Use {
        /** the publisher's producer, the dead-letter copies */
        PUBLISH("WRITE", "WRITE", "IDEMPOTENT_WRITE"),
        /** an applier's consumer: fetching, joining the group, committing offsets */
        CONSUME("READ", "READ", "DESCRIBE"),
        /** creating a missing topic */
        CREATE("CREATE", "DESCRIBE", "CREATE"),
        /** describing a topic, a group's members and offsets ('rpctl status') */
        DESCRIBE("DESCRIBE", "DESCRIBE", "DESCRIBE");

        final String onTopic;
        final String onGroup;
        final String onCluster;

        Use(String onTopic, String onGroup, String onCluster) {
            this.onTopic = onTopic;
            this.onGroup = onGroup;
            this.onCluster = onCluster;
        }
    }

    /**
     * The exit and the one line for a failure of a Kafka client doing {@code use} (on
     * {@code topic}, where it was one topic's): the broker's ACLs refused (77, naming the topic,
     * group or cluster and the operation to grant); the client or the broker refused what the
     * configuration asks for (78, naming the key); anything else is the broker not answering (69).
     */
    public RpctlException failure(Throwable e, Use use, String topic) {
        Throwable c = e;
        while ((c instanceof ExecutionException || c instanceof CompletionException || c instanceof KafkaUnavailable
                || (c != null && c.getClass() == KafkaException.class)) && c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        String at = "kafka at " + settings.bootstrap();
        if (c instanceof TopicAuthorizationException t) {
            String topics = t.unauthorizedTopics() == null || t.unauthorizedTopics().isEmpty()
                    ? (topic == null ? settings.topic() : topic) : String.join(", ", new TreeSet<>(t.unauthorizedTopics()));
            return denied(at, use.onTopic, "topic " + topics, c);
        }
        if (c instanceof GroupAuthorizationException g) {
            return denied(at, use.onGroup, "group " + (g.groupId() == null ? "?" : g.groupId()), c);
        }
        if (c instanceof ClusterAuthorizationException) {
            return denied(at, use.onCluster, "the cluster", c);
        }
        // a wrong SASL login or a TLS handshake refused: the configuration's (78), as for MySQL and Redis
        RpctlException refused = security.refused(c);
        if (refused != null) {
            return refused;
        }
        if (c instanceof AuthorizationException || c instanceof AuthenticationException) {
            return new RpctlException(ExitCode.NOPERM, at + " refused this client: " + RpctlException.rootMessage(c), c);
        }
        if (c instanceof ConfigException) {
            String m = RpctlException.rootMessage(c);
            String key = m.contains(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG) ? "kafka.bootstrap" : null;
            return new RpctlException(ExitCode.CONFIG, key != null
                    ? "kafka.bootstrap \"" + settings.bootstrap() + "\" is not usable: " + m
                    + " (set kafka.bootstrap to the brokers' host:port, comma-separated)"
                    : "the kafka client refused its configuration: " + m, c);
        }
        if (use == Use.CREATE && (c instanceof InvalidTopicException || c instanceof PolicyViolationException
                || c instanceof InvalidReplicationFactorException || c instanceof InvalidPartitionsException
                || c instanceof InvalidConfigurationException || c instanceof InvalidRequestException)) {
            return new RpctlException(ExitCode.CONFIG, "topic " + topic + " does not exist and " + at
                    + " refused to create it with " + settings.partitions() + " partitions: " + RpctlException.rootMessage(c)
                    + " (set kafka.topic to a topic that exists or that the broker creates, kafka.partitions to a count it"
                    + " accepts, or create the topic)", c);
        }
        return unavailable(c);
    }

    private static RpctlException denied(String at, String operation, String resource, Throwable cause) {
        return new RpctlException(ExitCode.NOPERM, at + " denied " + operation + " on " + resource
                + " to this client's principal (" + cause.getClass().getSimpleName() + "); grant it with an ACL allowing "
                + operation + " on " + resource, cause);
    }

    /**
     * Kafka did not answer: exit 69, naming the brokers; or 78 when it answered but refused the
     * TLS handshake or the login (see {@link KafkaSecurity#refused}).
     */
    public RpctlException unavailable(Throwable cause) {
        if (cause instanceof KafkaUnavailable k) {
            cause = k.getCause();
        }
        RpctlException refused = security.refused(cause);
        if (refused != null) {
            return refused;
        }
        return new RpctlException(ExitCode.UNAVAILABLE, "kafka at " + settings.bootstrap() + " is unreachable: "
                + RpctlException.rootMessage(cause) + " (check kafka.bootstrap)", cause);
    }

    /** An admin call that failed for another reason than a missing topic. */
    static final class KafkaUnavailable extends RuntimeException {
        KafkaUnavailable(Throwable cause) {
            super(cause);
        }
    }
}
