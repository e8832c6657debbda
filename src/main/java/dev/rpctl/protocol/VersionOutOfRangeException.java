package dev.rpctl.protocol;

/**
 * A row or tombstone whose version rpctl does not cache (see {@link Entry#MAX_VERSION}): writers
 * report it by their bad-data policy instead of writing an entry the compare-and-set cannot order.
 */
public final class VersionOutOfRangeException extends IllegalArgumentException {
    public VersionOutOfRangeException(String message) {
        super(message);
    }
}
