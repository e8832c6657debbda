package dev.rpctl.config;

/** What to do with a binlog row or cache entry that cannot be decoded. */
public enum BadDataPolicy {
    /** Stop with exit code 65. */
    FAIL,
    /** Log it and go on. */
    WARN,
    /** Go on, counting it in the metrics only. */
    SKIP
}
