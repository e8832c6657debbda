package dev.rpctl.kafka;

import dev.rpctl.config.KafkaSettings;
import dev.rpctl.config.TlsSettings;
import dev.rpctl.config.TlsVerify;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client properties rpctl's Kafka settings become; no broker needed. */
class KafkaSecurityTest {
    private static KafkaSettings settings(boolean tls, TlsVerify verify, String mechanism, String password) {
        return new KafkaSettings("k1:9093", "t", "g", 1, "", new TlsSettings(tls, "", verify, "", "", "kafka"), mechanism,
                "rpctl", password, 1 << 20);
    }

    private static Properties apply(KafkaSettings s) {
        Properties p = new Properties();
        new KafkaSecurity(s).apply(p);
        return p;
    }

    @Test
    void each_combination_of_tls_and_sasl_names_its_security_protocol() {
        assertEquals("PLAINTEXT", apply(settings(false, TlsVerify.FULL, "", "")).get("security.protocol"));
        assertEquals("SSL", apply(settings(true, TlsVerify.FULL, "", "")).get("security.protocol"));
        assertEquals("SASL_SSL", apply(settings(true, TlsVerify.FULL, "scram-sha-512", "pw")).get("security.protocol"));
        assertEquals("SASL_PLAINTEXT", apply(settings(false, TlsVerify.FULL, "PLAIN", "pw")).get("security.protocol"));
    }

    @Test
    void full_verification_checks_the_host_name_and_ca_does_not() {
        Properties full = apply(settings(true, TlsVerify.FULL, "", ""));
        assertEquals("https", full.get("ssl.endpoint.identification.algorithm"));
        assertEquals(TlsEngineFactory.class, full.get("ssl.engine.factory.class"));
        assertEquals("", apply(settings(true, TlsVerify.CA, "", "")).get("ssl.endpoint.identification.algorithm"));
        assertNull(apply(settings(false, TlsVerify.FULL, "", "")).get("ssl.engine.factory.class"));
    }

    @Test
    void the_sasl_password_is_a_hidden_kafka_password_with_quotes_and_backslashes_escaped() {
        Properties p = apply(settings(true, TlsVerify.FULL, "SCRAM-SHA-256", "a\"b\\c"));
        assertEquals("SCRAM-SHA-256", p.get("sasl.mechanism"));
        Password jaas = assertInstanceOf(Password.class, p.get("sasl.jaas.config"));
        assertEquals("[hidden]", jaas.toString());
        assertEquals("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"rpctl\""
                + " password=\"a\\\"b\\\\c\";", jaas.value());
        assertTrue(apply(settings(true, TlsVerify.FULL, "PLAIN", "x")).get("sasl.jaas.config") instanceof Password p2
                && p2.value().startsWith("org.apache.kafka.common.security.plain.PlainLoginModule required"));
    }

    @Test
    void the_settings_never_print_the_password() {
        String shown = settings(true, TlsVerify.FULL, "PLAIN", "s3cret-pw").toString();
        assertFalse(shown.contains("s3cret-pw"), shown);
    }

    @Test
    void a_sasl_mechanism_the_brokers_do_not_enable_is_the_configurations_78_naming_the_key() {
        KafkaSecurity security = new KafkaSecurity(settings(true, TlsVerify.FULL, "SCRAM-SHA-512", "pw"));
        dev.rpctl.errors.RpctlException e = security.refused(new org.apache.kafka.common.KafkaException("connect",
                new org.apache.kafka.common.errors.UnsupportedSaslMechanismException(
                        "Client SASL mechanism 'SCRAM-SHA-512' not enabled in the server, enabled mechanisms are [PLAIN]")));
        assertEquals(dev.rpctl.errors.ExitCode.CONFIG, e.exitCode());
        assertTrue(e.getMessage().contains("kafka.sasl-mechanism"), e.getMessage());
        assertFalse(e.getMessage().contains("pw"), e.getMessage());
    }

    @Test
    void a_certificate_that_does_not_verify_is_named_so_when_the_handshake_names_its_alert() {
        dev.rpctl.config.TlsSettings tls = new TlsSettings(true, "/etc/rpctl/ca.pem", TlsVerify.FULL, "", "", "kafka");
        javax.net.ssl.SSLHandshakeException handshake = new javax.net.ssl.SSLHandshakeException(
                "(certificate_unknown) PKIX path building failed");
        handshake.initCause(new java.security.cert.CertificateException("PKIX path building failed"));
        dev.rpctl.errors.RpctlException e = dev.rpctl.tls.Tls.refused(tls, "kafka", "k1:9093", handshake);
        assertEquals(dev.rpctl.errors.ExitCode.CONFIG, e.exitCode());
        assertTrue(e.getMessage().contains("certificate does not verify"), e.getMessage());
        assertTrue(e.getMessage().contains("kafka.tls-ca"), e.getMessage());
    }
}
