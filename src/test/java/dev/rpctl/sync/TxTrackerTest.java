package dev.rpctl.sync;

import dev.rpctl.binlog.BinlogPosition;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TxTrackerTest {
    private static BinlogPosition at(long pos) {
        return new BinlogPosition("binlog.000001", pos, "0-1-" + pos);
    }

    @Test
    void the_checkpoint_stops_below_the_oldest_transaction_a_lane_has_not_finished() {
        TxTracker t = new TxTracker(at(4));
        TxTracker.Tx first = t.current();
        first.add();
        first.add();
        t.commit(at(100));
        TxTracker.Tx second = t.current();
        second.add();
        t.commit(at(200));

        second.done();
        assertEquals(at(4), t.advance(), "a later transaction finishing first moves nothing");
        first.done();
        assertEquals(at(4), t.advance());
        first.done();
        assertEquals(at(200), t.advance());
    }

    @Test
    void transactions_without_mapped_rows_are_done_at_once_and_do_not_pile_up() {
        TxTracker t = new TxTracker(at(4));
        t.commit(at(10));
        assertEquals(at(10), t.advance());
        TxTracker.Tx busy = t.current();
        busy.add();
        t.commit(at(20));
        for (int i = 1; i <= 1000; i++) {
            t.commit(at(20 + i));
        }
        assertEquals(2, t.openTransactions());
        assertEquals(at(10), t.advance());
        busy.done();
        assertEquals(at(1020), t.advance());
    }

    @Test
    void a_transaction_not_yet_committed_holds_the_checkpoint_even_when_its_rows_are_written() {
        TxTracker t = new TxTracker(at(4));
        TxTracker.Tx open = t.current();
        open.add();
        open.done();
        assertEquals(at(4), t.advance());
        t.abandon(at(4));
        assertEquals(at(4), t.advance());
        t.commit(at(50));
        assertEquals(at(50), t.advance());
    }

    @Test
    void a_held_xa_prepare_keeps_the_checkpoint_below_it_until_its_committed_rows_are_written() {
        TxTracker t = new TxTracker(at(4));
        TxTracker.Tx prepare = t.hold(at(10));
        t.commit(at(20));
        for (int i = 1; i <= 10; i++) {
            t.commit(at(20 + i));
        }
        assertEquals(at(4), t.advance(), "transactions after a pending prepare do not move the checkpoint");
        prepare.add();
        prepare.done();
        assertEquals(at(4), t.advance(), "its committed row is not written yet");
        prepare.done();
        assertEquals(at(30), t.advance());
    }

    @Test
    void transactions_read_behind_a_waiting_xa_prepare_stay_bounded_in_memory() {
        TxTracker t = new TxTracker(at(4));
        TxTracker.Tx prepare = t.hold(at(10));
        long pos = 10;
        for (int i = 0; i < 100_000; i++) {
            TxTracker.Tx tx = t.current();
            tx.add();
            t.commit(at(++pos));
            tx.done();
            if (i % 100 == 0) {
                assertEquals(at(4), t.advance(), "the checkpoint stays below the prepare");
            }
        }
        t.advance();
        assertTrue(t.openTransactions() <= TxTracker.FOLD_AT + 1, t.openTransactions() + " transactions kept");
        TxTracker.Tx unfinished = t.current();
        unfinished.add();
        t.commit(at(++pos));
        prepare.done();
        assertEquals(at(pos - 1), t.advance(), "past the prepare, up to the transaction a lane still holds");
        unfinished.done();
        assertEquals(at(pos), t.advance());
    }
}
