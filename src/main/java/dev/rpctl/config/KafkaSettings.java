package dev.rpctl.config;

import java.util.Locale;

/**
 * Kafka mode: where row changes are published, how appliers name their groups, how many
 * partitions the publisher gives a topic it creates, where bad messages are copied (blank:
 * nowhere), how the clients reach the brokers (TLS, SASL), and the largest message an applier
 * reads. {@link #toString()} masks the password.
 *
 * @param saslMechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (upper case); blank: no SASL
 */
public record KafkaSettings(String bootstrap, String topic, String groupPrefix, int partitions, String deadLetterTopic,
                            TlsSettings tls, String saslMechanism, String user, String password, int maxMessageBytes) {

    public KafkaSettings {
        saslMechanism = saslMechanism.trim().toUpperCase(Locale.ROOT);
    }

    /** Plain connections, no login, messages up to the default bound. */
    public KafkaSettings(String bootstrap, String topic, String groupPrefix, int partitions, String deadLetterTopic) {
        this(bootstrap, topic, groupPrefix, partitions, deadLetterTopic, TlsSettings.off("kafka"), "", "", "",
                Keys.SYNC_MAX_EVENT_BYTES.defaultValue());
    }

    /** The consumer group of one side's appliers. */
    public String group(String side) {
        return groupPrefix + "-" + side;
    }

    public boolean sasl() {
        return !saslMechanism.isEmpty();
    }

    /** Kafka's security.protocol for these settings. */
    public String securityProtocol() {
        return (sasl() ? "SASL_" : "") + (tls.on() ? "SSL" : "PLAINTEXT");
    }

    @Override
    public String toString() {
        return "KafkaSettings[bootstrap=" + bootstrap + ", topic=" + topic + ", groupPrefix=" + groupPrefix
                + ", partitions=" + partitions + ", deadLetterTopic=" + deadLetterTopic + ", tls=" + tls
                + ", saslMechanism=" + saslMechanism + ", user=" + user + ", password="
                + Keys.KAFKA_PASSWORD.render(password) + ", maxMessageBytes=" + maxMessageBytes + "]";
    }
}
