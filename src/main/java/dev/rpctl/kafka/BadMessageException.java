package dev.rpctl.kafka;

/** A message an applier cannot read as a change of the mapped claim table; the text says why. */
public final class BadMessageException extends RuntimeException {
    public BadMessageException(String message) {
        super(message);
    }
}
