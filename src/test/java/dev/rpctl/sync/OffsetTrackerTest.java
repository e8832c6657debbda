package dev.rpctl.sync;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OffsetTrackerTest {

    @Test
    void the_offset_to_commit_stops_below_the_first_message_not_yet_applied() {
        OffsetTracker t = new OffsetTracker();
        TxTracker.Tx m10 = t.read(10);
        m10.add();
        m10.done();
        TxTracker.Tx m11 = t.read(11);
        m11.add();
        m11.done();
        TxTracker.Tx m12 = t.read(12);
        m12.done();
        assertEquals(-1, t.advance(), "nothing applied yet");

        // the lane of message 11 finishes first: still nothing below 10 is done
        m11.done();
        assertEquals(-1, t.advance());
        m10.done();
        assertEquals(13, t.advance(), "10, 11 and 12 (nothing to apply) are done: commit 13");
        assertTrue(t.idle());
        TxTracker.Tx m13 = t.read(13);
        assertFalse(t.idle());
        m13.done();
        assertEquals(14, t.advance());
    }
}
