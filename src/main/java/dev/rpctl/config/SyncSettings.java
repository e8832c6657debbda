package dev.rpctl.config;

import java.time.Duration;

/**
 * Tuning of the binlog pipelines. {@code serverIdBase} is a long: MySQL server ids are unsigned
 * 32-bit and the allowed range goes past {@link Integer#MAX_VALUE}. {@code maxEventBytes}: a binlog
 * event longer than this is bad data, passed over without being read.
 */
public record SyncSettings(int lanes, int queueCapacity, int batchSize, Duration checkpointInterval,
                           Duration heartbeatInterval, long serverIdBase, Duration keepaliveInterval,
                           BadDataPolicy onBadData, Duration unhealthyLag, int maxEventBytes) {
}
