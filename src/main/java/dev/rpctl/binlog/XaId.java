package dev.rpctl.binlog;

import com.github.shyiko.mysql.binlog.event.XAPrepareEventData;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * An XA transaction id (gtrid, bqual, formatID), equal however it was written: the servers log
 * {@code XA COMMIT X'7831',X'',1} for {@code XA COMMIT 'x1'}, and the prepare event carries the bytes.
 */
public record XaId(String gtridHex, String bqualHex, long formatId) {
    private static final HexFormat HEX = HexFormat.of();

    static XaId of(XAPrepareEventData d) {
        byte[] data = d.getData();
        byte[] gtrid = java.util.Arrays.copyOfRange(data, 0, d.getGtridLength());
        byte[] bqual = java.util.Arrays.copyOfRange(data, d.getGtridLength(), d.getGtridLength() + d.getBqualLength());
        return new XaId(HEX.formatHex(gtrid), HEX.formatHex(bqual), d.getFormatID());
    }

    /** Parses the xid of an XA statement's text: {@code X'..'} or {@code '..'} parts, then an optional format id. */
    static XaId parse(String text) {
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (char ch : text.trim().toCharArray()) {
            if (ch == '\'') {
                quoted = !quoted;
            }
            if (ch == ',' && !quoted) {
                parts.add(cur.toString().trim());
                cur.setLength(0);
            } else {
                cur.append(ch);
            }
        }
        parts.add(cur.toString().trim());
        String gtrid = bytes(parts.get(0));
        String bqual = parts.size() > 1 ? bytes(parts.get(1)) : "";
        long format = parts.size() > 2 ? Long.parseLong(parts.get(2)) : 1;
        return new XaId(gtrid, bqual, format);
    }

    private static String bytes(String literal) {
        String s = literal.trim();
        if (s.length() >= 3 && (s.charAt(0) == 'X' || s.charAt(0) == 'x') && s.charAt(1) == '\'') {
            return s.substring(2, s.length() - 1).toLowerCase(Locale.ROOT);
        }
        if (s.startsWith("0x") || s.startsWith("0X")) {
            return s.substring(2).toLowerCase(Locale.ROOT);
        }
        if (s.startsWith("'") && s.endsWith("'") && s.length() >= 2) {
            s = s.substring(1, s.length() - 1).replace("''", "'");
        }
        return HEX.formatHex(s.getBytes(StandardCharsets.UTF_8));
    }

    /** As an operator would type it: {@code 'x1'}, or the hex form where the bytes are not printable. */
    @Override
    public String toString() {
        String g = printable(gtridHex);
        String b = printable(bqualHex);
        if (g == null || b == null) {
            return "X'" + gtridHex + "',X'" + bqualHex + "'," + formatId;
        }
        return "'" + g + "'" + (b.isEmpty() && formatId == 1 ? "" : ",'" + b + "'") + (formatId == 1 ? "" : "," + formatId);
    }

    private static String printable(String hex) {
        byte[] b = HEX.parseHex(hex);
        for (byte x : b) {
            if (x < 0x20 || x > 0x7e || x == '\'') {
                return null;
            }
        }
        return new String(b, StandardCharsets.US_ASCII);
    }
}
