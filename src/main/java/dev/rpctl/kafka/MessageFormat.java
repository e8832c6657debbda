package dev.rpctl.kafka;

import java.util.List;

/** Reads one Kafka message of a change stream as the changes an applier applies. */
public interface MessageFormat {

    /**
     * The changes {@code value} carries for the claim table; empty for a message that carries
     * nothing to apply (another table, a Kafka tombstone, a schema change).
     *
     * @throws BadMessageException when the message cannot be read as the format says
     */
    List<Change> decode(byte[] value);

    /** The format's name, as sync-daemon's --format takes it. */
    String name();
}
