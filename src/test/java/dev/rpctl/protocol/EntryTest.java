package dev.rpctl.protocol;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EntryTest {
    final ClaimRow row = new ClaimRow(7, 42, 888, "paid", "req-1", 3, 1_764_324_000_123L);

    @Test
    void a_row_reads_back_as_it_was_written() {
        String raw = Entry.row(row).encode();
        assertEquals("R|3|888|paid|req-1|1764324000123", raw);
        Entry e = Entry.decode(raw);
        assertTrue(e.sameRow(row));
        assertEquals(1_764_324_000_123L, e.updatedAtMillis());
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
    void anything_else_is_undecodable() {
        for (String bad : new String[] {"", "hello", "R|x|1|paid|r|1", "R|3|888", "T|", "P|1", "X|1", "R|0|1|paid|r|1"}) {
            assertThrows(UndecodableEntryException.class, () -> Entry.decode(bad), bad);
        }
    }
}
