package dev.rpctl.protocol;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;

/** A cache value that is not in the entry encoding; bad data, exit 65. */
public final class UndecodableEntryException extends RpctlException {
    private final String raw;

    public UndecodableEntryException(String raw) {
        this(raw, "undecodable cache entry " + shorten(raw) + "; 'rpctl inspect --repair' rewrites it from the primary");
    }

    private UndecodableEntryException(String raw, String message) {
        super(ExitCode.DATA, message);
        this.raw = raw;
    }

    /** The value of a key met under the {@code fail} policy of sync.on-bad-data: names the side and key. */
    public static UndecodableEntryException at(String side, String key, String raw) {
        return new UndecodableEntryException(raw, "side " + side + ": key " + key + " holds an undecodable cache entry "
                + shorten(raw) + " (sync.on-bad-data=fail): run 'rpctl inspect --key " + key
                + " --repair', or set sync.on-bad-data to warn or skip to have rpctl replace it");
    }

    public String raw() {
        return raw;
    }

    /** The value as a message quotes it: at most 40 characters, newlines shown. */
    public static String shorten(String raw) {
        if (raw == null) {
            return "(nil)";
        }
        String s = raw.length() > 40 ? raw.substring(0, 40) + "..." : raw;
        return '"' + s.replace("\n", "\\n") + '"';
    }
}
