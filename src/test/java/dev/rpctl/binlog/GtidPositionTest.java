package dev.rpctl.binlog;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GtidPositionTest {

    @Test
    void mariadb_keeps_the_last_transaction_of_each_domain() {
        GtidPosition p = new GtidPosition("0-1-605,1-2-7");
        p.beginMariadb(0, 1, 606);
        assertEquals("0-1-605,1-2-7", p.toString(), "a transaction counts only once read to its end");
        p.commit();
        p.beginMariadb(2, 3, 1);
        p.commit();
        assertEquals("0-1-606,1-2-7,2-3-1", p.toString());
    }

    @Test
    void mysql_adds_each_transaction_to_the_executed_set() {
        String uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        GtidPosition p = new GtidPosition(uuid + ":1-41,\n" + "8b2f7c1e-0000-11e1-9e33-c80aa9429562:1-3");
        p.beginMysql(uuid + ":42");
        p.commit();
        p.beginMysql(uuid + ":43");
        p.abandon();
        assertEquals("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-42,8b2f7c1e-0000-11e1-9e33-c80aa9429562:1-3", p.toString());
    }

    @Test
    void a_reader_that_started_by_file_and_position_keeps_no_gtid() {
        // a set of only what was read would make MySQL send everything before it again
        GtidPosition mysql = new GtidPosition("");
        mysql.beginMysql("3e11fa47-71ca-11e1-9e33-c80aa9429562:5");
        mysql.commit();
        assertEquals("", mysql.toString());
        GtidPosition mariadb = new GtidPosition(null);
        mariadb.beginMariadb(0, 1, 9);
        mariadb.commit();
        assertEquals("", mariadb.toString());
    }
}
