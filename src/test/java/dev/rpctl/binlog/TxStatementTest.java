package dev.rpctl.binlog;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TxStatementTest {

    @Test
    void savepoint_statements_are_told_apart_from_the_ends_of_a_transaction() {
        assertEquals(TxStatement.Kind.SAVEPOINT, TxStatement.of("SAVEPOINT `s1`").kind());
        assertEquals("s1", TxStatement.of("ROLLBACK TO `S1`").name());
        assertEquals(TxStatement.Kind.ROLLBACK_TO, TxStatement.of("ROLLBACK WORK TO SAVEPOINT s1").kind());
        assertEquals(TxStatement.Kind.RELEASE, TxStatement.of("RELEASE SAVEPOINT s1").kind());
        assertEquals(TxStatement.Kind.ROLLBACK, TxStatement.of("ROLLBACK").kind());
        assertEquals(TxStatement.Kind.COMMIT, TxStatement.of("COMMIT").kind());
        assertEquals(TxStatement.Kind.OTHER, TxStatement.of("ALTER TABLE t ADD COLUMN rollback_to INT").kind());
    }

    @Test
    void an_xa_id_is_the_same_as_the_server_logs_it_and_as_an_operator_types_it() {
        XaId logged = TxStatement.of("XA COMMIT X'7831',X'',1").xid();
        assertEquals(XaId.parse("'x1'"), logged);
        assertEquals("'x1'", logged.toString());
        assertEquals(TxStatement.Kind.XA_ROLLBACK, TxStatement.of("XA ROLLBACK X'7831',X'6271',7").kind());
        assertEquals("'x1','bq',7", TxStatement.of("XA ROLLBACK X'7831',X'6271',7").xid().toString());
        for (String s : List.of("XA START 'x1'", "XA END X'7831',X'',1", "XA COMMIT 'x1' ONE PHASE")) {
            assertEquals(logged, TxStatement.of(s).xid(), s);
        }
    }
}
