package dev.rpctl.sync;

import dev.rpctl.app.App;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.config.Config;
import dev.rpctl.config.ConfigLoader;
import dev.rpctl.db.SchemaService;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A private corner of the shared local services for one test: its own claim table, activity id,
 * pipeline names and binlog server ids, so tests run beside other people's.
 */
final class SyncFixture implements AutoCloseable {
    final String id = Long.toString(ThreadLocalRandom.current().nextLong(1_000_000, 9_999_999));
    final String table = "rp_claim_it_" + id;
    final long activity = 1_000_000_000L + ThreadLocalRandom.current().nextLong(1, 1_000_000_000L);
    final String prefix = "it" + id + "-";
    final Map<String, String> env = new HashMap<>(System.getenv());
    private final List<Process> processes = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private App app;

    SyncFixture() throws SQLException {
        env.put("RPCTL_MAPPING_CLAIM_TABLE", table);
        env.put("RPCTL_SYNC_SERVER_ID_BASE", Long.toString(ThreadLocalRandom.current().nextLong(100_000, 4_000_000_000L)));
        env.putIfAbsent("RPCTL_MYSQL_HOST", "127.0.0.1");
        env.putIfAbsent("RPCTL_MYSQL_PORT", "13306");
        env.putIfAbsent("RPCTL_MYSQL_USER", "rpctl");
        env.putIfAbsent("RPCTL_MYSQL_PASSWORD", "rpctl");
        env.putIfAbsent("RPCTL_MYSQL_DATABASE", "rpctl");
        env.putIfAbsent("RPCTL_SIDE_A_NODES", "127.0.0.1:16379");
        env.putIfAbsent("RPCTL_SIDE_B_NODES", "127.0.0.1:16380");
        // the schema as 'rpctl db init' makes it, with this test's own claim table; the test may
        // still change the environment, so this App is not the one app() keeps
        try (App schema = new App(config())) {
            new SchemaService(schema.primary(), schema.config().mapping()).init();
        }
    }

    Config config() {
        return new ConfigLoader(env, Path.of("").toAbsolutePath()).load(null, Map.of());
    }

    App app() {
        if (app == null) {
            app = new App(config());
        }
        return app;
    }

    /** An in-process daemon for the given sides ("a", "b" or "all"), not started. */
    SyncService service(String side, boolean fromNow) {
        return service(side, fromNow, prefix);
    }

    /** As {@link #service(String, boolean)}, with pipelines named by another prefix (it should start with {@link #prefix}). */
    SyncService service(String side, boolean fromNow, String prefix) {
        Config c = app().config();
        return new SyncService(new SyncRepository(app().primary(), c.mapping()), app().sides(side), app().protocol(),
                c.mapping(), c.sync(), new SyncService.Options(prefix, fromNow, false));
    }

    SyncRepository repo() {
        return new SyncRepository(app().primary(), app().config().mapping());
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://" + env.get("RPCTL_MYSQL_HOST") + ":" + env.get("RPCTL_MYSQL_PORT")
                        + "/" + env.get("RPCTL_MYSQL_DATABASE") + "?connectionTimeZone=UTC&forceConnectionTimeZoneToSession=true"
                        + "&allowPublicKeyRetrieval=true&sslMode=DISABLED",
                env.get("RPCTL_MYSQL_USER"), env.get("RPCTL_MYSQL_PASSWORD"));
    }

    /** Runs statements as the server's root user (the local services' root has no password), for server settings. */
    void rootSql(String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:mysql://" + env.get("RPCTL_MYSQL_HOST") + ":"
                + env.get("RPCTL_MYSQL_PORT") + "/?allowPublicKeyRetrieval=true&sslMode=DISABLED", "root", "");
             Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    /** Runs statements on a fresh connection of its own, one transaction each. */
    void sql(String... statements) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    void insertUsers(long from, long to) throws SQLException {
        try (Connection c = connect()) {
            insertUsers(c, from, to);
        }
    }

    /** Inserts users {@code from..to} of this test's activity on the given connection (in its transaction). */
    void insertUsers(Connection c, long from, long to) throws SQLException {
        StringBuilder sb = new StringBuilder("INSERT INTO " + table + " (activity_id, user_id, amount, request_id, version) VALUES ");
        for (long u = from; u <= to; u++) {
            sb.append(u == from ? "" : ",").append('(').append(activity).append(',').append(u).append(',')
                    .append(u * 10).append(",'req-").append(u).append("',1)");
        }
        try (Statement st = c.createStatement()) {
            st.execute(sb.toString());
        }
    }

    /** The raw entry every key of this test's activity should hold, from the table as it is now. */
    Map<String, String> expectedRows() throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        String q = "SELECT activity_id, user_id, amount, status, request_id, version,"
                + " TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', updated_at) DIV 1000 FROM " + table
                + " ORDER BY activity_id, user_id";
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(q)) {
            while (rs.next()) {
                ClaimRow r = new ClaimRow(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getString(4), rs.getString(5),
                        rs.getLong(6), rs.getLong(7));
                out.put(app().config().mapping().claimKey(r.activityId(), r.userId()), Entry.row(r).encode());
            }
        }
        return out;
    }

    String key(long activityId, long user) {
        return app().config().mapping().claimKey(activityId, user);
    }

    /** Polls until the side holds exactly the expected raw values at those keys, or fails at the deadline. */
    void awaitSide(String side, Map<String, String> expected, long deadlineSeconds) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(deadlineSeconds);
        List<String> keys = new ArrayList<>(expected.keySet());
        String firstDiff = null;
        while (System.nanoTime() < until) {
            firstDiff = diff(side, keys, expected);
            if (firstDiff == null) {
                return;
            }
            Thread.sleep(200);
        }
        fail("side " + side + " did not converge: " + firstDiff);
    }

    private String diff(String side, List<String> keys, Map<String, String> expected) {
        CacheSide s = app().side(side);
        try {
            int diffs = 0;
            String first = null;
            for (int i = 0; i < keys.size(); i += 5000) {
                List<String> chunk = keys.subList(i, Math.min(keys.size(), i + 5000));
                List<String> got = s.getAll(chunk);
                for (int j = 0; j < chunk.size(); j++) {
                    String want = expected.get(chunk.get(j));
                    if (!want.equals(got.get(j))) {
                        diffs++;
                        if (first == null) {
                            first = chunk.get(j) + " has " + got.get(j) + ", expected " + want;
                        }
                    }
                }
            }
            return first == null ? null : diffs + " keys differ, e.g. " + first;
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Starts {@code bin/rpctl args...} with this fixture's environment; output under target/it-logs. */
    Process rpctl(String logName, String... args) throws IOException {
        Path logs = Path.of("target", "it-logs");
        Files.createDirectories(logs);
        List<String> cmd = new ArrayList<>();
        cmd.add(new File("bin/rpctl").getAbsolutePath());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().putAll(env);
        pb.redirectOutput(logs.resolve(prefix + logName + ".out").toFile());
        pb.redirectError(logs.resolve(prefix + logName + ".err").toFile());
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    static String read(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p) : "";
    }

    String stderr(String logName) throws IOException {
        return read(Path.of("target", "it-logs", prefix + logName + ".err"));
    }

    /** Waits until every pipeline of the daemon leads and reads the binlog, or fails after 30 s. */
    static void awaitLeading(SyncService daemon) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < until) {
            if (daemon.metrics().stream().allMatch(m -> m.leader() && m.connected())) {
                return;
            }
            Thread.sleep(50);
        }
        fail("the pipelines did not start");
    }

    void onClose(AutoCloseable c) {
        closeables.add(c);
    }

    @Override
    public void close() throws Exception {
        for (Process p : processes) {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception ignored) {
                // best effort
            }
        }
        try {
            sql("DROP TABLE IF EXISTS " + table, "DROP TABLE IF EXISTS " + table + "_tombstone", "DELETE FROM rpctl_checkpoint WHERE pipeline LIKE '" + prefix + "%'",
                    "DELETE FROM rpctl_heartbeat WHERE pipeline LIKE '" + prefix + "%'");
        } finally {
            if (app != null) {
                app.close();
            }
        }
    }
}
