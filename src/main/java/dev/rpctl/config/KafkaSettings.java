package dev.rpctl.config;

/**
 * Kafka mode: where row changes are published, how appliers name their groups, and how many
 * partitions the publisher gives a topic it creates.
 */
public record KafkaSettings(String bootstrap, String topic, String groupPrefix, int partitions) {

    /** The consumer group of one side's appliers. */
    public String group(String side) {
        return groupPrefix + "-" + side;
    }
}
