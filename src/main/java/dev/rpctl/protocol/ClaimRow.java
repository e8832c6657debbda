package dev.rpctl.protocol;

/** A claim row as the primary has it: what a cache entry of kind ROW carries. */
public record ClaimRow(long activityId, long userId, long amount, String status, String requestId,
                       long version, long updatedAtMillis) {
}
