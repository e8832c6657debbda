package dev.rpctl.binlog;

import com.github.shyiko.mysql.binlog.event.TableMapEventData;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TableShapesTest {

    private static TableMapEventData map(long id, String table) {
        TableMapEventData t = new TableMapEventData();
        t.setTableId(id);
        t.setDatabase("rpctl");
        t.setTable(table);
        t.setColumnTypes(new byte[] {8, 8});
        return t;
    }

    @Test
    void table_ids_of_weeks_on_one_connection_stay_bounded_and_the_newest_are_kept() {
        TableShapes shapes = new TableShapes("a", "rpctl",
                new BinlogSource.Tables(Set.of("rp_claim"), t -> List.of("activity_id", "user_id"), false), 1000);
        BinlogPosition at = new BinlogPosition("binlog.000001", 4, "");
        // the server gives a table a new id each time it opens it anew: mapped and unmapped tables alike
        for (long id = 1; id <= 50_000; id++) {
            shapes.map(map(id, id % 2 == 0 ? "rp_claim" : "other_" + id), at);
            assertTrue(shapes.tableIds() <= 1000, shapes.tableIds() + " table ids held");
        }
        assertNotNull(shapes.info(50_000), "the newest id is known");
        assertTrue(shapes.unmapped(49_999), "and so is the newest skipped one");
        assertEquals("rp_claim", shapes.info(50_000).name());
    }
}
