package dev.rpctl.kafka;

import dev.rpctl.config.KafkaSettings;
import dev.rpctl.config.Keys;
import dev.rpctl.config.TlsVerify;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.tls.Tls;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.IllegalSaslStateException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.UnsupportedSaslMechanismException;
import org.apache.kafka.common.config.types.Password;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import java.util.Properties;

/**
 * How rpctl's Kafka clients reach the brokers: security.protocol, TLS through {@link Tls} (the
 * server's certificate against kafka.tls-ca, the host name under full verification, a client
 * certificate), and a SASL login; and the configuration problem (78) behind a refused handshake
 * or login.
 */
final class KafkaSecurity {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaSecurity.class);

    private final KafkaSettings settings;
    /** Built once, so a bad PEM file is one 78 before any client exists, and every client shares it. */
    private SSLContext context;

    KafkaSecurity(KafkaSettings settings) {
        this.settings = settings;
    }

    /** Logs what an operator must know at start: verification off, a password sent without TLS. */
    void warnAtStart() {
        if (settings.tls().on() && settings.tls().verify() == TlsVerify.NONE) {
            LOG.warn("kafka at {}: kafka.tls-verify is none: the link is encrypted but the brokers' certificates are"
                    + " not checked, so anyone in the middle is accepted", settings.bootstrap());
        }
        if (settings.sasl() && !settings.tls().on() && settings.saslMechanism().equals("PLAIN")) {
            LOG.warn("kafka at {}: kafka.sasl-mechanism is PLAIN without kafka.tls: the password crosses the network"
                    + " as it is", settings.bootstrap());
        }
    }

    /** Adds the security properties to a producer's, consumer's or admin's. */
    void apply(Properties p) {
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, settings.securityProtocol());
        if (settings.tls().on()) {
            p.put(SslConfigs.SSL_ENGINE_FACTORY_CLASS_CONFIG, TlsEngineFactory.class);
            p.put(TlsEngineFactory.CONTEXT, context());
            p.put(SslConfigs.SSL_ENDPOINT_IDENTIFICATION_ALGORITHM_CONFIG,
                    settings.tls().verify() == TlsVerify.FULL ? "https" : "");
        }
        if (settings.sasl()) {
            String module = settings.saslMechanism().equals("PLAIN")
                    ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                    : "org.apache.kafka.common.security.scram.ScramLoginModule";
            p.put(SaslConfigs.SASL_MECHANISM, settings.saslMechanism());
            // a Password, which Kafka's own logging of its configuration shows as [hidden]
            p.put(SaslConfigs.SASL_JAAS_CONFIG, new Password(module + " required username=" + quoted(settings.user())
                    + " password=" + quoted(settings.password()) + ";"));
        }
    }

    private synchronized SSLContext context() {
        if (context == null) {
            context = Tls.context(settings.tls());
        }
        return context;
    }

    /** A JAAS string value: the characters JAAS treats as special are escaped. */
    static String quoted(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /**
     * The configuration problem behind a failed Kafka call, when it is one: the broker's certificate
     * did not verify, the handshake failed, or the login was refused; null for anything else.
     */
    RpctlException refused(Throwable failure) {
        String where = "kafka at " + settings.bootstrap();
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SaslAuthenticationException) {
                return new RpctlException(ExitCode.CONFIG, where + ": login refused for user '" + settings.user() + "' ("
                        + settings.saslMechanism() + ": " + RpctlException.oneLine(t.getMessage()) + "); check "
                        + Keys.KAFKA_USER.name() + " and " + Keys.KAFKA_PASSWORD.name() + " (" + Keys.KAFKA_PASSWORD.env()
                        + ")", failure);
            }
            if (t instanceof UnsupportedSaslMechanismException || t instanceof IllegalSaslStateException) {
                return new RpctlException(ExitCode.CONFIG, where + ": the brokers do not take the SASL login "
                        + settings.saslMechanism() + " (" + RpctlException.oneLine(t.getMessage()) + "); set "
                        + Keys.KAFKA_SASL_MECHANISM.name() + " to a mechanism the listener enables", failure);
            }
            if (t instanceof SslAuthenticationException) {
                RpctlException certificate = Tls.refused(settings.tls(), "kafka", settings.bootstrap(), t);
                if (certificate != null) {
                    return certificate;
                }
                return new RpctlException(ExitCode.CONFIG, where + ": the TLS handshake failed ("
                        + RpctlException.rootMessage(t) + "); check kafka.tls, that the brokers' listener speaks "
                        + settings.securityProtocol() + ", and kafka.tls-cert where the brokers require a client"
                        + " certificate", failure);
            }
        }
        return null;
    }
}
