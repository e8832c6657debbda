package dev.rpctl.kafka;

import dev.rpctl.config.KafkaSettings;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.DisconnectException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a Kafka client's failure reads to an operator: its exit code and the one line naming what to change. */
class KafkaFailuresTest {
    private final KafkaClients clients = new KafkaClients(new KafkaSettings("k1:9092,k2:9092", "rpctl.claims",
            "rpctl-apply", 12, ""));

    private static void reads(RpctlException e, ExitCode code, String... fragments) {
        assertEquals(code, e.exitCode(), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "no \"" + f + "\" in " + e.getMessage());
        }
    }

    @Test
    void a_topic_the_acls_refuse_exits_77_naming_the_topic_and_the_operation_of_what_was_done() {
        reads(clients.failure(new TopicAuthorizationException(Set.of("rpctl.claims")), KafkaClients.Use.CONSUME, "rpctl.claims"),
                ExitCode.NOPERM, "kafka at k1:9092,k2:9092", "READ on topic rpctl.claims", "ACL");
        // as the producer's callback and the admin's futures hand it over: wrapped
        reads(clients.failure(new ExecutionException(new TopicAuthorizationException(Set.of("rpctl.claims"))),
                KafkaClients.Use.PUBLISH, "rpctl.claims"), ExitCode.NOPERM, "WRITE on topic rpctl.claims");
        reads(clients.failure(new ExecutionException(new TopicAuthorizationException("denied")), KafkaClients.Use.CREATE,
                "rpctl.claims"), ExitCode.NOPERM, "CREATE on topic rpctl.claims");
    }

    @Test
    void a_group_or_the_cluster_the_acls_refuse_exits_77_naming_it_and_the_operation() {
        reads(clients.failure(GroupAuthorizationException.forGroupId("rpctl-apply-a"), KafkaClients.Use.CONSUME, "rpctl.claims"),
                ExitCode.NOPERM, "READ on group rpctl-apply-a");
        reads(clients.failure(GroupAuthorizationException.forGroupId("rpctl-apply-b"), KafkaClients.Use.DESCRIBE, "rpctl.claims"),
                ExitCode.NOPERM, "DESCRIBE on group rpctl-apply-b");
        reads(clients.failure(new KafkaException(new ClusterAuthorizationException("no idempotent write")),
                KafkaClients.Use.PUBLISH, "rpctl.claims"), ExitCode.NOPERM, "IDEMPOTENT_WRITE on the cluster");
        reads(clients.failure(new ClusterAuthorizationException("no create"), KafkaClients.Use.CREATE, "rpctl.claims"),
                ExitCode.NOPERM, "CREATE on the cluster");
    }

    @Test
    void a_configuration_the_client_or_broker_refuses_exits_78_naming_the_key() {
        reads(clients.failure(new KafkaException("Failed to construct kafka consumer",
                new ConfigException("No resolvable bootstrap urls given in bootstrap.servers")), KafkaClients.Use.CONSUME,
                "rpctl.claims"), ExitCode.CONFIG, "kafka.bootstrap \"k1:9092,k2:9092\"", "No resolvable bootstrap urls");
        reads(clients.failure(new ExecutionException(new InvalidReplicationFactorException("Replication factor: 3 larger"
                + " than available brokers: 1.")), KafkaClients.Use.CREATE, "rpctl.claims"), ExitCode.CONFIG,
                "topic rpctl.claims does not exist", "refused to create it with 12 partitions", "Replication factor: 3",
                "kafka.topic", "kafka.partitions");
    }

    @Test
    void a_broker_that_does_not_answer_stays_69_naming_the_brokers() {
        reads(clients.failure(new ExecutionException(new TimeoutException("Timed out waiting for a node assignment")),
                KafkaClients.Use.DESCRIBE, "rpctl.claims"), ExitCode.UNAVAILABLE, "kafka at k1:9092,k2:9092 is unreachable");
        reads(clients.failure(new DisconnectException("gone"), KafkaClients.Use.PUBLISH, "rpctl.claims"),
                ExitCode.UNAVAILABLE, "is unreachable", "kafka.bootstrap");
    }
}
