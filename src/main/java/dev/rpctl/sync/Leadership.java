package dev.rpctl.sync;

import dev.rpctl.binlog.BinlogPosition;

import java.time.Duration;

/**
 * What a pipeline does while it holds its lock: the direct {@link Pipeline} (binlog to one side)
 * or the {@link KafkaPublisher} (binlog to a topic). Both read from the checkpoint, save it through
 * the lock, and stop on the spot when the lock is lost.
 */
interface Leadership {

    void start(BinlogPosition from);

    /** Waits until the reader ends by itself (a failure, a lost lock) or the timeout passes; true when ended. */
    boolean awaitEnd(long millis) throws InterruptedException;

    Throwable failure();

    /** Whether it stopped because its session no longer holds the lock. */
    boolean lostLock();

    /** The lock is no longer this session's: stop writing at once, save nothing more. */
    void stopForLostLock();

    /** Stops reading; with {@code drain}, finishes what is in hand and saves the checkpoint within the deadline. */
    void stop(boolean drain, Duration deadline);
}
