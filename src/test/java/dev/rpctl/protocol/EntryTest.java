package dev.rpctl.protocol;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EntryTest {
    final ClaimRow row = new ClaimRow(7, 42, 888, "paid", "req-1", 3, 1_764_324_000_123L);

    private static ClaimRow row(String status, String requestId) {
        return new ClaimRow(7, 42, 888, status, requestId, 3, 1_764_324_000_123L);
    }

    @Test
    void a_row_reads_back_as_it_was_written() {
        String raw = Entry.row(row).encode();
        assertEquals("R|3|888|paid|req-1|1764324000123", raw);
        Entry e = Entry.decode(raw);
        assertTrue(e.sameRow(row));
        assertEquals(1_764_324_000_123L, e.updatedAtMillis());
    }

    @Test
    void text_with_bars_percent_signs_and_control_characters_round_trips_and_says_it_is_escaped() {
        String raw = Entry.row(row("refunded|by dba", "50%|a\nb")).encode();
        assertEquals("R|3|888|refunded%7Cby dba|50%25%7Ca%0Ab|1764324000123|%", raw);
        Entry e = Entry.decode(raw);
        assertEquals("refunded|by dba", e.status());
        assertEquals("50%|a\nb", e.requestId());
    }

    @Test
    void every_value_a_text_column_can_hold_decodes_back_to_itself() {
        String[] odd = {"", "|", "||", "%", "%25", "%7C", "a|b|c|d|e|f", "\u0000", "\t\r\n", "\u007f", "é中文🧧",
                "R|1|2|3|4|5", "|%", "trailing|", "x".repeat(10_000), "%%%", "% 7C", "%zz"};
        for (String status : odd) {
            for (String requestId : odd) {
                Entry e = Entry.decode(Entry.row(row(status, requestId)).encode());
                assertEquals(status, e.status(), () -> "status " + status);
                assertEquals(requestId, e.requestId(), () -> "request id " + requestId);
            }
        }
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            String s = randomText(random);
            String t = randomText(random);
            Entry e = Entry.decode(Entry.row(row(s, t)).encode());
            assertEquals(s, e.status());
            assertEquals(t, e.requestId());
        }
    }

    /** Code points of every plane (no lone surrogates: a utf8mb4 column cannot hold them), many of the escaped ones. */
    private static String randomText(Random random) {
        StringBuilder sb = new StringBuilder();
        int n = random.nextInt(12);
        for (int i = 0; i < n; i++) {
            int cp = switch (random.nextInt(4)) {
                case 0 -> "|%\u0000\n\u007f".charAt(random.nextInt(5));
                case 1 -> 0x20 + random.nextInt(0x5f);
                case 2 -> 0x80 + random.nextInt(0xD800 - 0x80);
                default -> 0x10000 + random.nextInt(0x10FFFF - 0x10000);
            };
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    @Test
    void an_entry_of_the_format_before_escaping_reads_as_written() {
        // six fields: the fields are taken as they are, a percent sign included
        Entry e = Entry.decode("R|3|888|paid|50%7C|1764324000123");
        assertEquals("50%7C", e.requestId());
    }

    @Test
    void placeholder_tombstone_and_lease_read_back() {
        assertEquals(Entry.Kind.PLACEHOLDER, Entry.decode("P|0").kind());
        assertEquals(5, Entry.decode("T|5").version());
        assertEquals("abc", Entry.decode("L|abc").leaseToken());
    }

    @Test
    void higher_versions_win_and_a_row_beats_the_tombstone_of_its_own_version() {
        Entry r3 = Entry.row(row);
        Entry t3 = Entry.tombstone(3);
        Entry t4 = Entry.tombstone(4);
        assertTrue(r3.rank() > t3.rank());
        assertTrue(t4.rank() > r3.rank());
        assertTrue(Entry.placeholder().rank() < Entry.tombstone(1).rank());
        assertTrue(Entry.lease("x").rank() < Entry.placeholder().rank());
    }

    @Test
    void versions_outside_the_accepted_range_are_refused_and_the_top_of_the_range_still_ranks_in_a_long() {
        long max = Entry.MAX_VERSION;
        Entry top = Entry.row(new ClaimRow(1, 1, 1, "paid", "r", max, 0));
        Entry topTombstone = Entry.tombstone(max + 1);
        assertTrue(topTombstone.rank() > top.rank());
        assertTrue(top.rank() > Entry.row(new ClaimRow(1, 1, 1, "paid", "r", max - 1, 0)).rank());
        assertEquals(top, Entry.decode(top.encode()));
        assertThrows(VersionOutOfRangeException.class, () -> Entry.row(new ClaimRow(1, 1, 1, "paid", "r", 0, 0)));
        assertThrows(VersionOutOfRangeException.class, () -> Entry.row(new ClaimRow(1, 1, 1, "paid", "r", -5, 0)));
        assertThrows(VersionOutOfRangeException.class, () -> Entry.row(new ClaimRow(1, 1, 1, "paid", "r", max + 1, 0)));
        assertThrows(VersionOutOfRangeException.class, () -> Entry.tombstone(max + 2));
        assertThrows(UndecodableEntryException.class, () -> Entry.decode("R|" + (max + 1) + "|1|paid|r|0"));
        assertFalse(top.rank() < 0);
    }

    @Test
    void anything_else_is_undecodable() {
        for (String bad : new String[] {"", "hello", "R|x|1|paid|r|1", "R|3|888", "T|", "P|1", "X|1", "R|0|1|paid|r|1",
                "R|03|1|paid|r|1", "T|-4", "T|0", "R|3|1|paid|r|1|x", "R|3|1|pa%7|r|1|%", "R|3|1|p|r|1|%|",
                "R|99999999999999999999|1|paid|r|1"}) {
            assertThrows(UndecodableEntryException.class, () -> Entry.decode(bad), bad);
        }
    }
}
