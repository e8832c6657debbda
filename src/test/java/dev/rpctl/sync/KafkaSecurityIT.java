package dev.rpctl.sync;

import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import dev.rpctl.TlsServers;
import dev.rpctl.config.ConfigLoader;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.kafka.KafkaClients;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kafka mode against a broker that speaks TLS only (certificates from the test CA), one listener
 * with a SCRAM-SHA-512 / PLAIN login and one that requires a client certificate; MySQL and Redis
 * are the local services.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class KafkaSecurityIT {
    @TempDir
    static Path dir;
    static TlsServers broker;

    @BeforeAll
    static void start() throws Exception {
        Services.env(); // the port offset of this checkout's services
        broker = TlsServers.kafkaOnly(dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    private static SyncFixture fixture(int port) throws Exception {
        SyncFixture f = new SyncFixture();
        f.env.putAll(broker.kafkaEnv(port));
        KafkaPipelineIT.useKafka(f, 2);
        return f;
    }

    /** rpctl run in-process with the fixture's environment and a free metrics port. */
    private static Rpctl.Result daemon(SyncFixture f, Map<String, String> change, String... args) throws Exception {
        Rpctl r = Rpctl.withServices();
        Map<String, String> env = new HashMap<>(f.env);
        env.putAll(change);
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getKey().startsWith("RPCTL_")) {
                r = r.with(e.getKey(), e.getValue());
            }
        }
        List<String> all = new java.util.ArrayList<>(List.of("sync-daemon", "--pipeline-prefix", f.prefix, "--no-wait",
                "--metrics", "127.0.0.1:" + SyncFixture.freePort()));
        all.addAll(List.of(args));
        return r.run(all.toArray(String[]::new));
    }

    private static void fails(Rpctl.Result r, int code, String... fragments) {
        assertEquals(code, r.exitCode(), r::toString);
        assertEquals(1, r.err().lines().count(), r::toString);
        for (String fragment : fragments) {
            assertTrue(r.err().contains(fragment), () -> "no \"" + fragment + "\" in " + r);
        }
        assertFalse(r.out().contains(broker.kafkaPassword()) || r.err().contains(broker.kafkaPassword()), r::toString);
    }

    @Test
    void rows_written_by_sql_reach_side_a_through_a_broker_that_takes_only_tls_and_a_scram_login() throws Exception {
        try (SyncFixture f = fixture(broker.kafkaSaslPort)) {
            SyncService publisher = KafkaPipelineIT.publisher(f, true);
            publisher.start();
            f.onClose(publisher::shutdown);
            SyncFixture.awaitLeading(publisher);
            SyncService applier = KafkaPipelineIT.applier(f, "a");
            applier.start();
            f.onClose(applier::shutdown);
            SyncFixture.awaitLeading(applier);

            f.insertUsers(1, 20);
            f.awaitSide("a", f.expectedRows(), 60);
        }
    }

    @Test
    void a_broker_certificate_from_another_ca_is_refused_with_78_naming_kafka_tls_ca() throws Exception {
        try (SyncFixture f = fixture(broker.kafkaTlsPort)) {
            Rpctl.Result r = daemon(f, Map.of("RPCTL_KAFKA_TLS_CA", broker.otherCa.toString()), "--sink", "kafka");
            fails(r, 78, "kafka at 127.0.0.1:" + broker.kafkaTlsPort, "certificate does not verify", "kafka.tls-ca");
        }
    }

    @Test
    void a_wrong_sasl_password_is_refused_with_78_login_refused_and_never_shown() throws Exception {
        try (SyncFixture f = fixture(broker.kafkaSaslPort)) {
            Rpctl.Result r = daemon(f, Map.of("RPCTL_KAFKA_PASSWORD", "wrong-" + broker.kafkaPassword()),
                    "--source", "kafka", "--side", "a");
            fails(r, 78, "kafka at 127.0.0.1:" + broker.kafkaSaslPort, "login refused for user 'rpctl'",
                    "kafka.password");
            assertFalse(r.err().contains("wrong-"), r::toString);
        }
    }

    /** Clients with this environment only; a topic they create has 2 partitions. */
    private static KafkaClients clients(Map<String, String> env) {
        Map<String, String> e = new HashMap<>(env);
        e.put("RPCTL_KAFKA_PARTITIONS", "2");
        return new KafkaClients(new ConfigLoader(e, dir).load(null, Map.of()).kafka());
    }

    @Test
    void a_plain_login_over_tls_is_accepted_too() throws Exception {
        Map<String, String> env = new HashMap<>(broker.kafkaEnv(broker.kafkaSaslPort));
        env.put("RPCTL_KAFKA_SASL_MECHANISM", "plain");
        KafkaClients clients = clients(env);
        assertEquals(2, clients.ensureTopic("rpctl.plain-login"));
    }

    @Test
    void a_listener_that_requires_a_client_certificate_takes_the_configured_one_and_refuses_its_absence() {
        Map<String, String> env = new HashMap<>(broker.kafkaEnv(broker.kafkaClientCertPort));
        KafkaClients without = clients(env);
        RpctlException e = assertThrows(RpctlException.class, () -> without.ensureTopic("rpctl.client-cert"));
        assertEquals(ExitCode.CONFIG, e.exitCode(), e::toString);
        assertTrue(e.getMessage().contains("kafka.tls-cert"), e.getMessage());

        env.put("RPCTL_KAFKA_TLS_CERT", broker.clientCert.toString());
        env.put("RPCTL_KAFKA_TLS_KEY", broker.clientKey.toString());
        KafkaClients with = clients(env);
        assertEquals(2, with.ensureTopic("rpctl.client-cert"));
    }

    @Test
    void tls_verify_none_accepts_a_certificate_from_another_ca_and_ca_skips_only_the_host_name() {
        Map<String, String> env = new HashMap<>(broker.kafkaEnv(broker.kafkaTlsPort));
        env.put("RPCTL_KAFKA_TLS_CA", broker.otherCa.toString());
        env.put("RPCTL_KAFKA_TLS_VERIFY", "none");
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                "dev.rpctl.kafka.KafkaSecurity");
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
                new ch.qos.logback.core.read.ListAppender<>();
        seen.start();
        log.addAppender(seen);
        KafkaClients none;
        try {
            none = clients(env);
        } finally {
            log.detachAppender(seen);
        }
        assertEquals(List.of("WARN kafka at 127.0.0.1:" + broker.kafkaTlsPort + ": kafka.tls-verify is none: the link is"
                + " encrypted but the brokers' certificates are not checked, so anyone in the middle is accepted"),
                seen.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList());
        assertEquals(2, none.ensureTopic("rpctl.none"));

        // the certificate names 127.0.0.1, not localhost: full refuses the name, ca accepts it
        Map<String, String> byName = new HashMap<>(broker.kafkaEnv(broker.kafkaTlsPort));
        byName.put("RPCTL_KAFKA_BOOTSTRAP", "localhost:" + broker.kafkaTlsPort);
        RpctlException e = assertThrows(RpctlException.class, () -> clients(byName).ensureTopic("rpctl.by-name"));
        assertEquals(ExitCode.CONFIG, e.exitCode(), e::toString);
        byName.put("RPCTL_KAFKA_TLS_VERIFY", "ca");
        assertEquals(2, clients(byName)
                .ensureTopic("rpctl.by-name"));
    }
}
