package dev.rpctl.protocol;

import java.nio.charset.StandardCharsets;

/**
 * A decoded cache entry. The encoding is compact and still readable in redis-cli:
 * <pre>
 *   R|3|888|paid|req-17|1764324000123     row: version, amount, status, request id, updated-at millis
 *   R|4|888|paid%7Cold|r%25|1764324000123|%   the same with escaped text fields (see below)
 *   P|0                                   placeholder: the primary had no row
 *   T|4                                   tombstone: rows older than version 4 are gone
 *   L|9f2c01                              lease: a reader is filling this key
 * </pre>
 * The kind letter and the version lead, so the Lua scripts compare versions without parsing the rest.
 * <p>
 * Text fields: a status or request id holding a {@code |}, a {@code %}, or a control character
 * (below U+0020, or U+007F) is written with those characters percent-escaped as their UTF-8 bytes
 * ({@code %7C}, {@code %25}, ...) and the entry ends in the field {@code %}, which says so. An entry
 * without that last field carries its fields as they are, so entries of plain text read the same
 * in redis-cli and in every rpctl, and an entry that never needed escaping is never unescaped.
 * Any other character, empty fields and fields of any length go as they are.
 * <p>
 * Versions: a row's version is 1 to {@link #MAX_VERSION}; a tombstone's is up to one more. Inside
 * that range the compare-and-set is exact (cas.lua compares the digits, not doubles) and the rank
 * below fits a long.
 */
public record Entry(Kind kind, long version, long amount, String status, String requestId,
                    long updatedAtMillis, String leaseToken) {

    /** The highest row version rpctl accepts: 4 x 10^18, room for a nanosecond clock until 2096. */
    public static final long MAX_VERSION = 4_000_000_000_000_000_000L;
    /** The field that ends an entry whose text fields are escaped. */
    private static final String ESCAPED = "%";

    public enum Kind {
        ROW, PLACEHOLDER, TOMBSTONE, LEASE;

        public String label() {
            return name().toLowerCase();
        }
    }

    /** A row's entry; throws {@link VersionOutOfRangeException} for a version rpctl does not accept. */
    public static Entry row(ClaimRow r) {
        checkRowVersion(r.version());
        return new Entry(Kind.ROW, r.version(), r.amount(), r.status(), r.requestId(), r.updatedAtMillis(), null);
    }

    public static Entry placeholder() {
        return new Entry(Kind.PLACEHOLDER, 0, 0, null, null, 0, null);
    }

    /** A tombstone at {@code version}: the deleted row's version plus one. */
    public static Entry tombstone(long version) {
        if (version < 1 || version > MAX_VERSION + 1) {
            throw new VersionOutOfRangeException("tombstone version " + version + " is outside 1.." + (MAX_VERSION + 1));
        }
        return new Entry(Kind.TOMBSTONE, version, 0, null, null, 0, null);
    }

    public static Entry lease(String token) {
        return new Entry(Kind.LEASE, -1, 0, null, null, 0, token);
    }

    /** Throws for a row version outside 1..{@link #MAX_VERSION}. */
    public static void checkRowVersion(long version) {
        if (version < 1 || version > MAX_VERSION) {
            throw new VersionOutOfRangeException("row version " + version + " is outside 1.." + MAX_VERSION
                    + " (rpctl caches rows of versions in that range only)");
        }
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
            case ROW -> encodeRow();
            case PLACEHOLDER -> "P|0";
            case TOMBSTONE -> "T|" + version;
            case LEASE -> "L|" + leaseToken;
        };
    }

    private String encodeRow() {
        boolean escape = needsEscape(status) || needsEscape(requestId);
        StringBuilder sb = new StringBuilder(40 + status.length() + requestId.length());
        sb.append("R|").append(version).append('|').append(amount).append('|');
        field(sb, status, escape).append('|');
        field(sb, requestId, escape).append('|').append(updatedAtMillis);
        if (escape) {
            sb.append('|').append(ESCAPED);
        }
        return sb.toString();
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
                    boolean escaped = f.length == 7 && f[6].equals(ESCAPED);
                    if (f.length != 6 && !escaped) {
                        throw new UndecodableEntryException(raw);
                    }
                    long v = version(f[1], raw);
                    if (v > MAX_VERSION) {
                        throw new UndecodableEntryException(raw);
                    }
                    String status = escaped ? unescape(f[3], raw) : f[3];
                    String requestId = escaped ? unescape(f[4], raw) : f[4];
                    return new Entry(Kind.ROW, v, Long.parseLong(f[2]), status, requestId, Long.parseLong(f[5]), null);
                }
                case 'P':
                    if (!raw.equals("P|0")) {
                        throw new UndecodableEntryException(raw);
                    }
                    return placeholder();
                case 'T': {
                    long v = version(raw.substring(2), raw);
                    if (v > MAX_VERSION + 1) {
                        throw new UndecodableEntryException(raw);
                    }
                    return tombstone(v);
                }
                case 'L':
                    return lease(raw.substring(2));
                default:
                    throw new UndecodableEntryException(raw);
            }
        } catch (NumberFormatException e) {
            throw new UndecodableEntryException(raw);
        }
    }

    /** A version as cas.lua reads it: digits without a leading zero, at least 1. */
    private static long version(String digits, String raw) {
        if (digits.isEmpty() || digits.length() > 19 || digits.charAt(0) < '1' || digits.charAt(0) > '9') {
            throw new UndecodableEntryException(raw);
        }
        for (int i = 1; i < digits.length(); i++) {
            char c = digits.charAt(i);
            if (c < '0' || c > '9') {
                throw new UndecodableEntryException(raw);
            }
        }
        return Long.parseLong(digits);
    }

    /** The fields a reader compares with the primary's row (updated-at is informative only). */
    public boolean sameRow(ClaimRow r) {
        return kind == Kind.ROW && version == r.version() && amount == r.amount()
                && status.equals(r.status()) && requestId.equals(r.requestId());
    }

    private static boolean needsEscape(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (escaped(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    private static boolean escaped(char c) {
        return c == '|' || c == '%' || c < 0x20 || c == 0x7F;
    }

    private static StringBuilder field(StringBuilder sb, String s, boolean escape) {
        if (!escape) {
            return sb.append(s);
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (escaped(c)) {
                // all of these are single UTF-8 bytes
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            } else {
                sb.append(c);
            }
        }
        return sb;
    }

    /** Percent-escapes back to their bytes, read as UTF-8; a broken escape is undecodable. */
    private static String unescape(String s, String raw) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[utf8.length];
        int n = 0;
        for (int i = 0; i < utf8.length; i++) {
            if (utf8[i] != '%') {
                out[n++] = utf8[i];
                continue;
            }
            if (i + 2 >= utf8.length) {
                throw new UndecodableEntryException(raw);
            }
            int hi = Character.digit(utf8[i + 1], 16);
            int lo = Character.digit(utf8[i + 2], 16);
            if (hi < 0 || lo < 0) {
                throw new UndecodableEntryException(raw);
            }
            out[n++] = (byte) (hi << 4 | lo);
            i += 2;
        }
        return new String(out, 0, n, StandardCharsets.UTF_8);
    }
}
