package dev.rpctl.protocol;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;

/** A cache value that is not in the entry encoding; bad data, exit 65. */
public final class UndecodableEntryException extends RpctlException {
    private final String raw;

    public UndecodableEntryException(String raw) {
        super(ExitCode.DATA, "undecodable cache entry " + shorten(raw)
                + "; 'rpctl inspect --repair' rewrites it from the primary");
        this.raw = raw;
    }

    public String raw() {
        return raw;
    }

    static String shorten(String raw) {
        if (raw == null) {
            return "(nil)";
        }
        String s = raw.length() > 40 ? raw.substring(0, 40) + "..." : raw;
        return '"' + s.replace("\n", "\\n") + '"';
    }
}
