package dev.rpctl.binlog;

import dev.rpctl.errors.RpctlException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Error 1236 covers more than a purged binlog: each cause gets its own line, --from-now only where it helps. */
class BinlogRefusalTest {
    final BinlogPosition at = new BinlogPosition("binlog.000007", 4, "0-1-5000");

    private RpctlException refused(String serverMessage) {
        return BinlogSource.readRefused(at, serverMessage, 4200);
    }

    @Test
    void a_purged_file_or_gtid_names_from_now_and_reconcile() {
        for (String m : new String[] {"Could not find first log file name in binary log index file",
                "Could not find GTID state requested by slave in any binlog files. Probably the slave state is too old and"
                        + " required binlog files have been purged."}) {
            RpctlException e = refused(m);
            assertEquals(65, e.exitCode().code());
            assertTrue(e.getMessage().contains("no longer on the server") && e.getMessage().contains("--from-now")
                    && e.getMessage().contains(m), e.getMessage());
        }
    }

    @Test
    void another_reader_with_the_same_server_id_is_a_configuration_problem_naming_the_setting() {
        RpctlException e = refused("A slave with the same server_uuid/server_id as this slave has connected to the master;"
                + " the first event 'binlog.000007' at 4");
        assertEquals(78, e.exitCode().code());
        assertTrue(e.getMessage().contains("server id 4200") && e.getMessage().contains("sync.server-id-base"), e.getMessage());
        assertFalse(e.getMessage().contains("--from-now"), e.getMessage());
    }

    @Test
    void a_gtid_the_server_never_had_says_so_and_names_the_host() {
        RpctlException e = refused("Error: connecting slave requested to start from GTID 0-1-5000, which is not in the"
                + " master's binlog. Since the master's binlog contains GTIDs with higher sequence numbers, it probably means"
                + " that the slave has diverged due to executing extra erroneous transactions");
        assertEquals(65, e.exitCode().code());
        assertTrue(e.getMessage().contains("does not have the checkpoint's GTID 0-1-5000") && e.getMessage().contains("mysql.host"),
                e.getMessage());
    }

    @Test
    void a_damaged_binlog_names_what_the_server_said_and_not_from_now() {
        RpctlException e = refused("binlog truncated in the middle of event; consider out of disk space on master");
        assertEquals(65, e.exitCode().code());
        assertTrue(e.getMessage().contains("binlog truncated in the middle of event") && e.getMessage().contains("error log"),
                e.getMessage());
        assertFalse(e.getMessage().contains("--from-now"), e.getMessage());
    }
}
