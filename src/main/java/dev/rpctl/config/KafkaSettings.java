package dev.rpctl.config;

/** Kafka mode: where row changes are published and how appliers name their groups. */
public record KafkaSettings(String bootstrap, String topic, String groupPrefix) {
}
