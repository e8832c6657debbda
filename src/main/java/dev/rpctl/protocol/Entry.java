package dev.rpctl.protocol;

/**
 * A decoded cache entry. The encoding is compact and still readable in redis-cli:
 * <pre>
 *   R|3|888|paid|req-17|1764324000123   row: version, amount, status, request id, updated-at millis
 *   P|0                                 placeholder: the primary had no row
 *   T|4                                 tombstone: rows older than version 4 are gone
 *   L|9f2c01                            lease: a reader is filling this key
 * </pre>
 * The kind letter and the version lead, so the Lua scripts compare versions without parsing the rest.
 */
public record Entry(Kind kind, long version, long amount, String status, String requestId,
                    long updatedAtMillis, String leaseToken) {

    public enum Kind {
        ROW, PLACEHOLDER, TOMBSTONE, LEASE;

        public String label() {
            return name().toLowerCase();
        }
    }

    public static Entry row(ClaimRow r) {
        return new Entry(Kind.ROW, r.version(), r.amount(), r.status(), r.requestId(), r.updatedAtMillis(), null);
    }

    public static Entry placeholder() {
        return new Entry(Kind.PLACEHOLDER, 0, 0, null, null, 0, null);
    }

    public static Entry tombstone(long version) {
        return new Entry(Kind.TOMBSTONE, version, 0, null, null, 0, null);
    }

    public static Entry lease(String token) {
        return new Entry(Kind.LEASE, -1, 0, null, null, 0, token);
    }

    /** A row or placeholder or tombstone answers the reader; a lease does not. */
    public boolean answers() {
        return kind != Kind.LEASE;
    }

    /** Whether the primary has a row, as far as this entry says. */
    public boolean hasRow() {
        return kind == Kind.ROW;
    }

    /**
     * The order the compare-and-set keeps: a higher version wins; at one version a row beats the
     * tombstone that carries it (the tombstone announced that row). The same rule is in cas.lua.
     */
    public long rank() {
        return kind == Kind.LEASE ? -1 : 2 * version + (kind == Kind.TOMBSTONE ? 0 : 1);
    }

    public String encode() {
        return switch (kind) {
            case ROW -> "R|" + version + "|" + amount + "|" + status + "|" + requestId + "|" + updatedAtMillis;
            case PLACEHOLDER -> "P|0";
            case TOMBSTONE -> "T|" + version;
            case LEASE -> "L|" + leaseToken;
        };
    }

    /** Decodes a raw value; throws {@link UndecodableEntryException} for anything else. */
    public static Entry decode(String raw) {
        if (raw == null || raw.length() < 3 || raw.charAt(1) != '|') {
            throw new UndecodableEntryException(raw);
        }
        try {
            switch (raw.charAt(0)) {
                case 'R': {
                    String[] f = raw.split("\\|", -1);
                    if (f.length != 6) {
                        throw new UndecodableEntryException(raw);
                    }
                    long v = Long.parseLong(f[1]);
                    if (v < 1) {
                        throw new UndecodableEntryException(raw);
                    }
                    return new Entry(Kind.ROW, v, Long.parseLong(f[2]), f[3], f[4], Long.parseLong(f[5]), null);
                }
                case 'P':
                    if (!raw.equals("P|0")) {
                        throw new UndecodableEntryException(raw);
                    }
                    return placeholder();
                case 'T':
                    return tombstone(Long.parseLong(raw.substring(2)));
                case 'L':
                    return lease(raw.substring(2));
                default:
                    throw new UndecodableEntryException(raw);
            }
        } catch (NumberFormatException e) {
            throw new UndecodableEntryException(raw);
        }
    }

    /** The fields a reader compares with the primary's row (updated-at is informative only). */
    public boolean sameRow(ClaimRow r) {
        return kind == Kind.ROW && version == r.version() && amount == r.amount()
                && status.equals(r.status()) && requestId.equals(r.requestId());
    }
}
