package dev.rpctl.protocol;

/** What one compare-and-set of cas.lua did to its key. */
public enum CasOutcome {
    /** The entry was written: the key was absent, a lease, or older. */
    WRITTEN,
    /** The entry there is as new or newer; nothing was written. */
    KEPT,
    /** The value there is not an entry; it was left alone, for 'rpctl inspect --repair'. */
    UNDECODABLE
}
