package dev.rpctl.binlog;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a QUERY event means to the shape of a transaction. Savepoint statements sit inside a
 * transaction and never end it; only COMMIT, a whole ROLLBACK and the XA resolutions do.
 */
record TxStatement(Kind kind, String name, XaId xid) {

    enum Kind { BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ROLLBACK_TO, RELEASE, XA_START, XA_END, XA_COMMIT, XA_ROLLBACK, OTHER }

    private static final Pattern SAVEPOINT = Pattern.compile("(?is)SAVEPOINT\\s+(\\S+)");
    private static final Pattern ROLLBACK_TO = Pattern.compile("(?is)ROLLBACK\\s+(?:WORK\\s+)?TO\\s+(?:SAVEPOINT\\s+)?(\\S+)");
    private static final Pattern RELEASE = Pattern.compile("(?is)RELEASE\\s+SAVEPOINT\\s+(\\S+)");
    private static final Pattern XA = Pattern.compile("(?is)XA\\s+(START|BEGIN|END|COMMIT|ROLLBACK)\\s+(.*?)"
            + "(?:\\s+(?:JOIN|RESUME|SUSPEND(?:\\s+FOR\\s+MIGRATE)?|ONE\\s+PHASE))?");
    private static final TxStatement OTHER_STATEMENT = new TxStatement(Kind.OTHER, null, null);

    static TxStatement of(String sql) {
        String s = sql.trim();
        if (s.endsWith(";")) {
            s = s.substring(0, s.length() - 1).trim();
        }
        switch (s.toUpperCase(Locale.ROOT)) {
            case "BEGIN", "START TRANSACTION" -> {
                return new TxStatement(Kind.BEGIN, null, null);
            }
            case "COMMIT", "COMMIT WORK" -> {
                return new TxStatement(Kind.COMMIT, null, null);
            }
            case "ROLLBACK", "ROLLBACK WORK" -> {
                return new TxStatement(Kind.ROLLBACK, null, null);
            }
            default -> {
                // fall through to the statements that carry a name
            }
        }
        Matcher m;
        if ((m = SAVEPOINT.matcher(s)).matches()) {
            return new TxStatement(Kind.SAVEPOINT, savepoint(m.group(1)), null);
        }
        if ((m = ROLLBACK_TO.matcher(s)).matches()) {
            return new TxStatement(Kind.ROLLBACK_TO, savepoint(m.group(1)), null);
        }
        if ((m = RELEASE.matcher(s)).matches()) {
            return new TxStatement(Kind.RELEASE, savepoint(m.group(1)), null);
        }
        if ((m = XA.matcher(s)).matches()) {
            Kind k = switch (m.group(1).toUpperCase(Locale.ROOT)) {
                case "START", "BEGIN" -> Kind.XA_START;
                case "END" -> Kind.XA_END;
                case "COMMIT" -> Kind.XA_COMMIT;
                default -> Kind.XA_ROLLBACK;
            };
            return new TxStatement(k, null, XaId.parse(m.group(2)));
        }
        return OTHER_STATEMENT;
    }

    /** Savepoint names are case-insensitive identifiers, logged back-quoted. */
    private static String savepoint(String name) {
        String n = name.trim();
        if (n.length() >= 2 && n.startsWith("`") && n.endsWith("`")) {
            n = n.substring(1, n.length() - 1).replace("``", "`");
        }
        return n.toLowerCase(Locale.ROOT);
    }
}
