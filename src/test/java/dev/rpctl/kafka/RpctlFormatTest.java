package dev.rpctl.kafka;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.protocol.ClaimRow;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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

    @Test
    void the_publisher_writes_the_documented_json_field_by_field() throws Exception {
        ClaimRow before = new ClaimRow(7, 42, 888, "paid", "r-42", 3, 1764324000123L);
        ClaimRow after = new ClaimRow(7, 42, 888, "refunded \"by ops\" | é", "r\\42\n", 4, 1764324000456L);
        ObjectMapper json = new ObjectMapper();
        ObjectNode m = json.createObjectNode();
        m.put("format", "rpctl/1").put("table", "rp_claim").put("op", "update");
        m.putObject("key").put("activity_id", 7).put("user_id", 42);
        row(m.putObject("before"), before);
        row(m.putObject("after"), after);
        m.put("version", 4);
        m.putObject("binlog").put("file", "bin.000001").put("position", 4).put("gtid", "0-1-9").put("at", "end");
        m.put("commit_ms", 1764324000456L);
        assertEquals(json.writeValueAsString(m), new String(RpctlFormat.change("rp_claim", "update", before, after, at, true,
                1764324000456L), StandardCharsets.UTF_8));

        ObjectNode beat = json.createObjectNode();
        beat.put("format", "rpctl/1").put("op", "heartbeat").put("pipeline", "kafka").put("beat_ms", 5000);
        beat.putObject("binlog").put("file", "bin.000001").put("position", 4).put("gtid", "0-1-9").put("at", "start");
        beat.put("commit_ms", 5000);
        assertEquals(json.writeValueAsString(beat), new String(RpctlFormat.heartbeat("kafka", 5000, at, false),
                StandardCharsets.UTF_8));
    }

    @Test
    void the_publishers_messages_are_read_in_one_pass_and_as_the_tree_reads_them() {
        ClaimRow v1 = new ClaimRow(7, 42, 888, "", "r-42", 1, 1000);
        ClaimRow moved = new ClaimRow(7, 43, 888, "paid", "r-42", 2, 2000);
        List<byte[]> own = List.of(
                RpctlFormat.change("rp_claim", "insert", null, v1, at, true, 1000),
                RpctlFormat.change("RP_CLAIM", "update", v1, moved, at, false, 2000),
                RpctlFormat.change("rp_claim", "delete", v1, null, at, true, 3000),
                RpctlFormat.change("other", "insert", null, v1, at, true, 1000),
                RpctlFormat.heartbeat("kafka", 5000, at, true));
        for (byte[] m : own) {
            assertNotNull(RpctlFormat.Streamed.decode(m, "rp_claim"), new String(m, StandardCharsets.UTF_8));
            assertEquals(format.decodeTree(m), format.decode(m));
        }
    }

    @Test
    void a_message_of_another_shape_is_read_or_refused_as_the_tree_reader_does() {
        String row = "'activity_id':7,'user_id':42,'amount':888,'status':'paid','request_id':'r','version':2";
        List<String> odd = List.of(
                "{'table':'rp_claim','op':'insert','after':{" + row + "}}",
                "{'table':'rp_claim','op':'insert','after':{" + row + ",'updated_at_ms':'17'}}",
                "{'table':'rp_claim','op':'insert','after':{'activity_id':'7','user_id':42,'amount':888,'status':'paid',"
                        + "'request_id':'r','version':2,'updated_at_ms':1}}",
                "{'table':'rp_claim','op':'insert','extra':[{'a':[1,2]},{}],'after':{" + row + ",'updated_at_ms':1,'more':{}}}",
                "{'table':'rp_claim','op':'delete','before':[1,2],'after':null}",
                "{'table':'rp_claim','op':'delete','before':{" + row + ",'updated_at_ms':1.5}}",
                "{'table':'rp_claim','op':'insert','after':{" + row + ",'updated_at_ms':1,'version':99999999999999999999}}",
                "{'table':'rp_claim','op':'insert','after':{" + row + ",'updated_at_ms':1},'after':null}",
                "{'table':'rp_claim','op':'upsert','after':{" + row + ",'updated_at_ms':1}}",
                "{'table':7,'op':'insert','after':{" + row + ",'updated_at_ms':1}}",
                "{'op':'heartbeat','beat_ms':'5000'}",
                "{'op':'heartbeat'}",
                "{'op':{'a':1},'table':'rp_claim'}",
                "[1,2]",
                "{'table':'rp_claim','op':'insert','after':{" + row + ",'updated_at_ms':1}",
                "");
        for (String m : odd) {
            byte[] b = bytes(m);
            Object tree;
            try {
                tree = format.decodeTree(b);
            } catch (BadMessageException e) {
                tree = "refused: " + e.getMessage();
            }
            Object read;
            try {
                read = format.decode(b);
            } catch (BadMessageException e) {
                read = "refused: " + e.getMessage();
            }
            assertEquals(tree, read, m);
        }
    }

    private static void row(ObjectNode o, ClaimRow r) {
        o.put("activity_id", r.activityId()).put("user_id", r.userId()).put("amount", r.amount()).put("status", r.status())
                .put("request_id", r.requestId()).put("version", r.version()).put("updated_at_ms", r.updatedAtMillis());
    }

    static byte[] bytes(String singleQuoted) {
        return singleQuoted.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
    }
}
