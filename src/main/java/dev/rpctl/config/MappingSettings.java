package dev.rpctl.config;

import java.time.Duration;

/** Table names, the cache key layout and the lifetimes of cache entries. */
public record MappingSettings(String activityTable, String claimTable, String checkpointTable,
                              String heartbeatTable, String keyTemplate, String versionColumn, Duration entryTtl,
                              Duration placeholderTtl, Duration tombstoneTtl, Duration leaseTtl) {

    /** The key of one claim: {@code rp:claim:<activity>:<user>} with both ids filled in. */
    public String claimKey(long activityId, long userId) {
        return keyTemplate.replace("<activity>", Long.toString(activityId))
                .replace("<user>", Long.toString(userId));
    }
}
