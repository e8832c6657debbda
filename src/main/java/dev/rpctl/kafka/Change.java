package dev.rpctl.kafka;

import dev.rpctl.protocol.ClaimRow;

import java.util.List;

/**
 * One thing an applier applies to its side, whatever message format it came in: a claim row,
 * the tombstone of a deleted row (version: the deleted row's version + 1), or a publisher's
 * heartbeat (beatMillis: when the beat row was written).
 */
public record Change(Kind kind, long activityId, long userId, ClaimRow row, long tombstoneVersion, long beatMillis) {

    public enum Kind { ROW, TOMBSTONE, BEAT }

    public static Change row(ClaimRow r) {
        return new Change(Kind.ROW, r.activityId(), r.userId(), r, 0, 0);
    }

    /** The tombstone of a deleted row of version {@code deletedVersion}. */
    public static Change deleted(long activityId, long userId, long deletedVersion) {
        return new Change(Kind.TOMBSTONE, activityId, userId, null, deletedVersion + 1, 0);
    }

    /** What an update of {@code before} to {@code after} applies: the new row, after the old key's tombstone when the key moved. */
    public static List<Change> update(ClaimRow before, ClaimRow after) {
        return before.activityId() == after.activityId() && before.userId() == after.userId() ? List.of(row(after))
                : List.of(deleted(before.activityId(), before.userId(), before.version()), row(after));
    }

    public static Change beat(long millis) {
        return new Change(Kind.BEAT, 0, 0, null, 0, millis);
    }
}
