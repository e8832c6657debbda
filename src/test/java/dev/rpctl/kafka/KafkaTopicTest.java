package dev.rpctl.kafka;

import dev.rpctl.config.KafkaSettings;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeTopicsResult;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.internals.KafkaFutureImpl;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Creating the topic when a broker's metadata lags its controller's answer, as under KRaft: the
 * topic is created and its count answered, yet the broker describes it as unknown for a while.
 */
class KafkaTopicTest {
    private final KafkaClients clients = new KafkaClients(new KafkaSettings("k1:9092", "rpctl.claims", "rpctl-apply", 6, ""));

    /**
     * An admin client over a broker that knows the topic only from the {@code knownFrom}-th
     * describe on (counting from 1), with {@code partitions}; its create answers as given.
     */
    private static Admin lagging(int knownFrom, int partitions, KafkaFuture<CreateTopicsResult.TopicMetadataAndConfig> created,
                                 AtomicInteger describes, AtomicInteger creates) {
        return (Admin) Proxy.newProxyInstance(Admin.class.getClassLoader(), new Class<?>[]{Admin.class}, (self, m, args) -> {
            switch (m.getName()) {
                case "describeTopics" -> {
                    KafkaFutureImpl<TopicDescription> d = new KafkaFutureImpl<>();
                    if (describes.incrementAndGet() < knownFrom) {
                        d.completeExceptionally(new UnknownTopicOrPartitionException("This server does not host this topic-partition."));
                    } else {
                        Node n = new Node(1, "k1", 9092);
                        d.complete(new TopicDescription("rpctl.claims", false, IntStream.range(0, partitions)
                                .mapToObj(p -> new TopicPartitionInfo(p, n, List.of(n), List.of(n))).toList()));
                    }
                    return new DescribeTopicsResult(Map.of("rpctl.claims", d)) { };
                }
                case "createTopics" -> {
                    creates.incrementAndGet();
                    return new CreateTopicsResult(Map.of("rpctl.claims", created)) { };
                }
                case "close" -> {
                    return null;
                }
                default -> throw new UnsupportedOperationException(m.getName());
            }
        });
    }

    @Test
    void a_topic_it_creates_counts_the_partitions_the_controller_answered_though_the_broker_does_not_describe_it_yet() {
        AtomicInteger describes = new AtomicInteger();
        AtomicInteger creates = new AtomicInteger();
        KafkaFuture<CreateTopicsResult.TopicMetadataAndConfig> created = KafkaFuture.completedFuture(
                new CreateTopicsResult.TopicMetadataAndConfig(Uuid.randomUuid(), 6, 1, null));
        // the broker would describe it only at the fifth asking
        assertEquals(6, clients.ensureTopic(lagging(5, 6, created, describes, creates), "rpctl.claims"));
        assertEquals(1, creates.get());
        assertEquals(1, describes.get(), "described once, before creating it");
    }

    @Test
    void a_topic_another_client_created_at_the_same_moment_is_described_once_the_broker_has_it() {
        AtomicInteger describes = new AtomicInteger();
        AtomicInteger creates = new AtomicInteger();
        KafkaFutureImpl<CreateTopicsResult.TopicMetadataAndConfig> exists = new KafkaFutureImpl<>();
        exists.completeExceptionally(new TopicExistsException("Topic 'rpctl.claims' already exists."));
        assertEquals(12, clients.ensureTopic(lagging(4, 12, exists, describes, creates), "rpctl.claims"));
        assertEquals(4, describes.get());
    }

    @Test
    void a_topic_created_by_a_principal_that_may_not_describe_its_configs_is_counted_by_describing_it() {
        AtomicInteger describes = new AtomicInteger();
        AtomicInteger creates = new AtomicInteger();
        // created, but the count and configs come back refused (the ACLs allow Create, not DescribeConfigs)
        KafkaFuture<CreateTopicsResult.TopicMetadataAndConfig> created = KafkaFuture.completedFuture(
                new CreateTopicsResult.TopicMetadataAndConfig(new TopicAuthorizationException("no DescribeConfigs")));
        assertEquals(6, clients.ensureTopic(lagging(3, 6, created, describes, creates), "rpctl.claims"));
        assertEquals(1, creates.get());
        assertEquals(3, describes.get());
    }

    @Test
    void a_topic_the_acls_refuse_to_create_exits_77() {
        KafkaFutureImpl<CreateTopicsResult.TopicMetadataAndConfig> refused = new KafkaFutureImpl<>();
        refused.completeExceptionally(new TopicAuthorizationException("denied"));
        RpctlException e = assertThrows(RpctlException.class, () -> clients.ensureTopic(
                lagging(99, 6, refused, new AtomicInteger(), new AtomicInteger()), "rpctl.claims"));
        assertEquals(ExitCode.NOPERM, e.exitCode());
        assertTrue(e.getMessage().contains("CREATE on topic rpctl.claims"), e.getMessage());
    }

    @Test
    void a_topic_the_broker_describes_is_not_created() {
        AtomicInteger describes = new AtomicInteger();
        AtomicInteger creates = new AtomicInteger();
        assertEquals(3, clients.ensureTopic(lagging(1, 3, new KafkaFutureImpl<>(), describes, creates), "rpctl.claims"));
        assertEquals(0, creates.get());
    }
}
