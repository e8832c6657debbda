package dev.rpctl.config;

/**
 * Kafka mode: where row changes are published, how appliers name their groups, how many
 * partitions the publisher gives a topic it creates, and where bad messages are copied (blank: nowhere).
 */
public record KafkaSettings(String bootstrap, String topic, String groupPrefix, int partitions, String deadLetterTopic) {

    /** The consumer group of one side's appliers. */
    public String group(String side) {
        return groupPrefix + "-" + side;
    }
}
