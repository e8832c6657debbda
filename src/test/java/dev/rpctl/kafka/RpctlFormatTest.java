package dev.rpctl.kafka;

import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.protocol.ClaimRow;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RpctlFormatTest {
    private final RpctlFormat format = new RpctlFormat("rp_claim");
    private final BinlogPosition at = new BinlogPosition("bin.000001", 4, "0-1-9");

    @Test
    void what_the_publisher_writes_reads_back_as_the_changes_to_apply() {
        ClaimRow v1 = new ClaimRow(7, 42, 888, "", "r-42", 1, 1000);
        ClaimRow v2 = new ClaimRow(7, 42, 888, "refunded", "r-42", 2, 2000);
        assertEquals(List.of(Change.row(v1)), format.decode(RpctlFormat.change("rp_claim", "insert", null, v1, at, true, 1000)));
        assertEquals(List.of(Change.row(v2)), format.decode(RpctlFormat.change("rp_claim", "update", v1, v2, at, true, 2000)));
        assertEquals(List.of(Change.deleted(7, 42, 2)), format.decode(RpctlFormat.change("rp_claim", "delete", v2, null, at, true, 3000)));
        assertEquals(List.of(Change.beat(5000)), format.decode(RpctlFormat.heartbeat("kafka", 5000, at, true)));
        // another table's changes are not the claim table's
        assertEquals(List.of(), format.decode(RpctlFormat.change("other", "insert", null, v1, at, true, 1000)));
    }

    @Test
    void a_message_that_is_not_the_format_names_what_is_wrong() {
        BadMessageException e = assertThrows(BadMessageException.class,
                () -> format.decode(bytes("{'format':'rpctl/1','table':'rp_claim','op':'insert'}")));
        assertEquals("no \"after\" row", e.getMessage());
        e = assertThrows(BadMessageException.class, () -> format.decode(bytes("not json")));
        assertTrue(e.getMessage().startsWith("not JSON"), e.getMessage());
    }

    static byte[] bytes(String singleQuoted) {
        return singleQuoted.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
    }
}
