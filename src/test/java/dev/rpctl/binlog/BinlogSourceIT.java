package dev.rpctl.binlog;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.config.ConfigLoader;
import dev.rpctl.config.MysqlSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** What the reader hands over for each shape of transaction the server writes, against the real server. */
class BinlogSourceIT {
    private final String id = Long.toString(ThreadLocalRandom.current().nextLong(1_000_000, 9_999_999));
    private final String table = "rp_binlog_it_" + id;
    private final Map<String, String> env = new HashMap<>(System.getenv());
    private MysqlSettings mysql;

    /** Transactions as the listener saw them: row ids then the end, one line each; empty ones left out. */
    private static final class Recorder implements BinlogSource.Listener {
        final List<String> transactions = new ArrayList<>();
        private final List<String> rows = new ArrayList<>();

        @Override
        public synchronized void row(RowChange c) {
            rows.add(Long.toString(Values.asLong(RowChange.value(c.after() != null ? c.after() : c.before(), 0))));
        }

        @Override
        public synchronized void commit(BinlogPosition end) {
            if (!rows.isEmpty()) {
                transactions.add(String.join(",", rows) + " commit");
            }
            rows.clear();
        }

        @Override
        public synchronized void prepared(XaId xid, BinlogPosition end) {
            transactions.add((rows.isEmpty() ? "" : String.join(",", rows) + " ") + "prepared " + xid);
            rows.clear();
        }

        @Override
        public synchronized void resolved(XaId xid, boolean committed, List<RowChange> held, BinlogPosition end) {
            List<String> ids = held == null ? List.of("?") : held.stream()
                    .map(c -> Long.toString(Values.asLong(RowChange.value(c.after(), 0)))).toList();
            transactions.add((committed ? "xa commit " : "xa rollback ") + xid + " of " + String.join(",", ids));
        }

        @Override
        public void abandon(BinlogPosition resumeFrom) {
            fail("the connection dropped");
        }

        synchronized List<String> transactions() {
            return List.copyOf(transactions);
        }
    }

    @BeforeEach
    void createTables() throws SQLException {
        env.putIfAbsent("RPCTL_MYSQL_HOST", "127.0.0.1");
        env.putIfAbsent("RPCTL_MYSQL_PORT", "13306");
        env.putIfAbsent("RPCTL_MYSQL_USER", "rpctl");
        env.putIfAbsent("RPCTL_MYSQL_PASSWORD", "rpctl");
        env.putIfAbsent("RPCTL_MYSQL_DATABASE", "rpctl");
        mysql = new ConfigLoader(env, Path.of("").toAbsolutePath()).load(null, Map.of()).mysql();
        sql("CREATE TABLE " + table + " (id BIGINT PRIMARY KEY, v INT) ENGINE=InnoDB",
                "CREATE TABLE " + table + "_m (id BIGINT PRIMARY KEY) ENGINE=MyISAM");
    }

    @AfterEach
    void dropTables() throws SQLException {
        sql("DROP TABLE IF EXISTS " + table, "DROP TABLE IF EXISTS " + table + "_m");
    }

    @Test
    void a_transaction_with_savepoints_is_handed_over_whole_with_one_commit_after_its_surviving_rows() throws Exception {
        List<String> seen = read(Integer.MAX_VALUE, c -> {
            c.setAutoCommit(false);
            exec(c, "INSERT INTO " + table + " VALUES (1, 0)", "SAVEPOINT s1", "INSERT INTO " + table + " VALUES (2, 0)",
                    "ROLLBACK TO SAVEPOINT s1", "INSERT INTO " + table + " VALUES (3, 0)", "SAVEPOINT s2",
                    "UPDATE " + table + " SET v = 1 WHERE id = 1", "RELEASE SAVEPOINT s2");
            c.commit();
            // a non-transactional change makes the server log the rolled-back rows and the ROLLBACK TO itself
            exec(c, "INSERT INTO " + table + " VALUES (5, 0)", "SAVEPOINT s1", "INSERT INTO " + table + " VALUES (6, 0)",
                    "INSERT INTO " + table + "_m VALUES (1)", "ROLLBACK TO SAVEPOINT s1", "INSERT INTO " + table + " VALUES (7, 0)");
            c.commit();
        });
        assertEquals(List.of("1,3,1 commit", "5,7 commit"), seen);
    }

    @Test
    void an_xa_transaction_is_handed_over_at_its_xa_commit_and_dropped_at_its_xa_rollback() throws Exception {
        String a = "'xa" + id + "a'";
        String b = "'xa" + id + "b'";
        String c1 = "'xa" + id + "c'";
        List<String> seen = read(Integer.MAX_VALUE, c -> {
            exec(c, "XA START " + a, "INSERT INTO " + table + " VALUES (10, 0)", "INSERT INTO " + table + " VALUES (11, 0)",
                    "XA END " + a, "XA PREPARE " + a);
            try (Connection other = connect()) {
                exec(other, "INSERT INTO " + table + " VALUES (12, 0)");
                // the prepared transaction outlives its session: another one commits it
                c.close();
                xaCommitWhenDetached(other, a);
                exec(other, "XA START " + b, "INSERT INTO " + table + " VALUES (20, 0)", "XA END " + b, "XA PREPARE " + b,
                        "XA ROLLBACK " + b);
                exec(other, "XA START " + c1, "INSERT INTO " + table + " VALUES (30, 0)", "XA END " + c1,
                        "XA COMMIT " + c1 + " ONE PHASE");
            }
        });
        assertEquals(List.of("prepared " + a, "12 commit", "xa commit " + a + " of 10,11", "prepared " + b,
                "xa rollback " + b + " of 20", "30 commit"), seen);
    }

    @Test
    void more_held_rows_than_the_bound_stop_the_reader_with_a_line_naming_the_xa_transaction() throws Exception {
        String x = "'xa" + id + "big'";
        try {
            RpctlException e = assertInstanceOf(RpctlException.class, failure(3, c -> exec(c, "XA START " + x,
                    "INSERT INTO " + table + " SELECT seq, 0 FROM seq_1_to_5", "XA END " + x, "XA PREPARE " + x)));
            assertEquals(65, e.exitCode().code());
            assertTrue(e.getMessage().contains("more than 3 row changes") && e.getMessage().contains("XA transaction " + x)
                    && e.getMessage().contains("XA RECOVER"), e.getMessage());
        } finally {
            sql("XA ROLLBACK " + x);
        }
    }

    interface Work {
        void run(Connection c) throws Exception;
    }

    /** A reader of this test's table under a server id of its own, handing over to r. */
    private BinlogSource source(Recorder r, int maxHeld) {
        return new BinlogSource("it" + id, mysql, ThreadLocalRandom.current().nextLong(100_000, 4_000_000_000L),
                new BinlogSource.Tables(Set.of(table), t -> fail("names come with the events"), true),
                Duration.ofSeconds(5), r, maxHeld);
    }

    /** Runs the work, then a last row (id -1), reads from before the work to that row and returns what was handed over. */
    private List<String> read(int maxHeld, Work work) throws Exception {
        Recorder r = new Recorder();
        BinlogSource source = source(r, maxHeld);
        BinlogPosition start = serverNow();
        try (Connection c = connect()) {
            work.run(c);
        }
        sql("INSERT INTO " + table + " VALUES (-1, 0)");
        Thread t = new Thread(() -> {
            try {
                source.run(start);
            } catch (InterruptedException ignored) {
                // stopped
            }
        });
        t.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!r.transactions().contains("-1 commit") && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        source.stop();
        t.join(10_000);
        List<String> seen = new ArrayList<>(r.transactions());
        assertTrue(seen.remove("-1 commit"), "the last row arrived: " + seen);
        return seen;
    }

    /** Runs the work and returns what the reader threw reading it. */
    private Throwable failure(int maxHeld, Work work) throws Exception {
        Recorder r = new Recorder();
        BinlogSource source = source(r, maxHeld);
        BinlogPosition start = serverNow();
        try (Connection c = connect()) {
            work.run(c);
        }
        Throwable[] thrown = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                source.run(start);
            } catch (Throwable e) {
                thrown[0] = e;
            }
        });
        t.start();
        t.join(30_000);
        source.stop();
        t.join(5_000);
        return thrown[0];
    }

    private BinlogPosition serverNow() throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            String file;
            long pos;
            try (ResultSet rs = st.executeQuery("SHOW MASTER STATUS")) {
                rs.next();
                file = rs.getString(1);
                pos = rs.getLong(2);
            }
            try (ResultSet rs = st.executeQuery("SELECT @@gtid_binlog_pos")) {
                rs.next();
                return new BinlogPosition(file, pos, rs.getString(1));
            }
        }
    }

    private Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://" + mysql.host() + ":" + mysql.port() + "/" + mysql.database()
                + "?allowPublicKeyRetrieval=true&sslMode=DISABLED", mysql.user(), mysql.password());
    }

    private void sql(String... statements) throws SQLException {
        try (Connection c = connect()) {
            exec(c, statements);
        }
    }

    /**
     * XA COMMIT of a transaction prepared by a session that was just closed: the server moves it to
     * the detached ones once it has seen the disconnect, which can come after close() returns.
     */
    private static void xaCommitWhenDetached(Connection c, String xid) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                exec(c, "XA COMMIT " + xid);
                return;
            } catch (SQLException e) {
                // ER_XAER_NOTA: not (yet) known as a detached prepared transaction
                if (e.getErrorCode() != 1397 || attempt >= 100) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    private static void exec(Connection c, String... statements) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }
}
