package dev.rpctl.kafka;

import dev.rpctl.config.KafkaSettings;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The Kafka clients of rpctl, configured once: the publisher's producer, the appliers' consumers, the admin. */
public final class KafkaClients {
    /** How long an admin request (topic creation, offsets) may take before Kafka counts as unreachable. */
    private static final long ADMIN_TIMEOUT_MS = 10_000;

    private final KafkaSettings settings;

    public KafkaClients(KafkaSettings settings) {
        this.settings = settings;
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
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /** An applier's consumer in {@code group}: offsets are committed by the applier, never automatically. */
    public KafkaConsumer<String, byte[]> consumer(String group, String clientId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        // a dead applier's partitions move to the others within this
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }

    public Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrap());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT_MS);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT_MS);
        return Admin.create(p);
    }

    /**
     * The partition count of {@code topic}, creating it with kafka.partitions when it is missing.
     *
     * @throws RpctlException 69 when no broker answers
     */
    public int ensureTopic(String topic) {
        try (Admin admin = admin()) {
            Optional<Integer> have = partitions(admin, topic);
            if (have.isPresent()) {
                return have.get();
            }
            try {
                admin.createTopics(List.of(new NewTopic(topic, Optional.of(settings.partitions()), Optional.empty())))
                        .all().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw unavailable(e.getCause());
                }
            }
            return partitions(admin, topic).orElseThrow(() -> unavailable(new IllegalStateException(
                    "topic " + topic + " was created but is not described")));
        } catch (TimeoutException | KafkaUnavailable e) {
            throw unavailable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw RpctlException.temporary("interrupted while creating topic " + topic);
        }
    }

    /** The topic's partition count, or empty when it does not exist. */
    public static Optional<Integer> partitions(Admin admin, String topic) throws InterruptedException, TimeoutException {
        try {
            Map<String, TopicDescription> d = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            return Optional.of(d.get(topic).partitions().size());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return Optional.empty();
            }
            throw new KafkaUnavailable(e.getCause());
        }
    }

    /** Kafka did not answer: exit 69, naming the brokers. */
    public RpctlException unavailable(Throwable cause) {
        if (cause instanceof KafkaUnavailable k) {
            cause = k.getCause();
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
