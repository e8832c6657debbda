package dev.rpctl.tls;

import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import dev.rpctl.TlsServers;
import dev.rpctl.app.App;
import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.binlog.BinlogSource;
import dev.rpctl.binlog.RowChange;
import dev.rpctl.binlog.XaId;
import dev.rpctl.config.Config;
import dev.rpctl.config.ConfigLoader;
import dev.rpctl.config.MysqlSettings;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.sync.SyncMetrics;
import dev.rpctl.sync.SyncRepository;
import dev.rpctl.sync.SyncService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * rpctl against a MariaDB and two Redis servers that accept TLS only: every connection (the
 * pool, the binlog stream, the Redis sides and their direct links) is encrypted and verified,
 * and a server whose certificate does not verify is refused with 78.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SecurityIT {
    @TempDir
    static Path dir;
    static TlsServers servers;

    @BeforeAll
    static void start() throws Exception {
        Services.env(); // the port offset of this checkout's services
        servers = TlsServers.start(dir);
        Rpctl.Result init = servers.rpctl().run("db", "init");
        assertEquals(0, init.exitCode(), init::toString);
    }

    @AfterAll
    static void stop() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    static void fails(Rpctl.Result r, int code, String... fragments) {
        assertEquals(code, r.exitCode(), r::toString);
        assertEquals(1, r.err().lines().count(), r::toString);
        for (String f : fragments) {
            assertTrue(r.err().contains(f), () -> "no \"" + f + "\" in " + r);
        }
    }

    static void noPassword(Rpctl.Result r) {
        assertFalse(r.out().contains(servers.password()) || r.err().contains(servers.password()), r::toString);
        assertFalse(r.out().contains(servers.redisPassword()) || r.err().contains(servers.redisPassword()), r::toString);
    }

    private static Config config(Map<String, String> env) {
        return new ConfigLoader(env, dir).load(null, Map.of());
    }

    @Test
    void claims_the_daemon_and_inspect_run_over_verified_tls_and_the_binlog_stream_is_encrypted() throws Exception {
        Rpctl rpctl = servers.rpctl();
        long activity = Services.freshActivityId();
        Rpctl.Result created = rpctl.run("activity", "create", "--activity", Long.toString(activity), "--count", "10",
                "--amount", "100");
        assertEquals(0, created.exitCode(), created::toString);

        try (App app = new App(config(servers.env()))) {
            Config c = app.config();
            SyncService daemon = new SyncService(new SyncRepository(app.primary(), c.mapping()), app.sides("all"),
                    app.protocol(), c.mapping(), c.sync(), new SyncService.Options("tls-", true, false));
            daemon.start();
            try {
                awaitLeading(daemon);
                // from the server's side: the binlog dump sessions are encrypted
                List<String> ciphers = binlogDumpCiphers();
                assertEquals(2, ciphers.size(), ciphers::toString);
                assertTrue(ciphers.stream().allMatch(x -> !x.isBlank()), ciphers::toString);

                Rpctl.Result claim = rpctl.run("claim", "--activity", Long.toString(activity), "--user", "7");
                assertEquals(0, claim.exitCode(), claim::toString);
                noPassword(claim);
                // the daemon's copy arrives over the binlog; inspect then finds both sides right
                Rpctl.Result inspect = null;
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (System.nanoTime() < until) {
                    inspect = rpctl.run("inspect", "--user", "7", "--activity", Long.toString(activity));
                    if (inspect.exitCode() == 0) {
                        break;
                    }
                    Thread.sleep(200);
                }
                assertEquals(0, inspect.exitCode(), inspect::toString);
                noPassword(inspect);
                assertTrue(daemon.metrics().stream().allMatch(m -> m.rowsApplied() >= 1), daemon.metrics()::toString);
            } finally {
                daemon.shutdown();
            }
        }
    }

    @Test
    void a_claim_writes_through_to_both_sides_over_tls_without_the_daemon() throws Exception {
        Rpctl rpctl = servers.rpctl();
        long activity = Services.freshActivityId();
        assertEquals(0, rpctl.run("activity", "create", "--activity", Long.toString(activity), "--count", "10",
                "--amount", "100").exitCode());
        Rpctl.Result claim = rpctl.run("claim", "--activity", Long.toString(activity), "--user", "8");
        assertEquals(0, claim.exitCode(), claim::toString);
        assertFalse(claim.err().contains("write-through"), claim::toString);
        String key = "rp:claim:" + activity + ":8";
        for (int port : List.of(servers.redisAPort, servers.redisBPort)) {
            String entry = servers.redisCli(port, "GET", key).strip();
            assertTrue(entry.startsWith("R|"), "side on " + port + " holds " + entry);
        }
    }

    @Test
    void tls_verify_none_connects_but_says_so_in_a_warning_on_stderr() throws Exception {
        Map<String, String> env = new HashMap<>(servers.env());
        env.put("RPCTL_MYSQL_TLS_CA", servers.otherCa.toString());
        env.put("RPCTL_MYSQL_TLS_VERIFY", "none");
        env.put("RPCTL_SIDE_A_TLS_CA", servers.otherCa.toString());
        env.put("RPCTL_SIDE_A_TLS_VERIFY", "none");
        String err = stderrOf(env, "inspect", "--user", "1", "--activity", "1");
        assertTrue(err.contains("mysql primary at 127.0.0.1:" + servers.mysqlPort + ": mysql.tls-verify is none"), err);
        assertTrue(err.contains("redis side a: side-a.tls-verify is none"), err);
        assertFalse(err.contains("side-b.tls-verify"), err);
        assertFalse(err.contains(servers.password()) || err.contains(servers.redisPassword()), err);
    }

    /** What bin/rpctl, a process of its own (logback writes to its stderr), prints on stderr; it must exit 0. */
    private static String stderrOf(Map<String, String> env, String... args) throws Exception {
        Path err = java.nio.file.Files.createTempFile(dir, "rpctl", ".err");
        List<String> cmd = new java.util.ArrayList<>(List.of(new java.io.File("bin/rpctl").getAbsolutePath()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("RPCTL_"));
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String text = java.nio.file.Files.readString(err);
        assertEquals(0, p.exitValue(), text);
        return text;
    }

    /** The Ssl_cipher of every binlog dump session, as the server reports it (performance_schema). */
    private static List<String> binlogDumpCiphers() throws Exception {
        try (Connection c = servers.root(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT s.VARIABLE_VALUE FROM performance_schema.threads t"
                     + " JOIN performance_schema.status_by_thread s ON s.THREAD_ID = t.THREAD_ID"
                     + " WHERE t.PROCESSLIST_COMMAND LIKE 'Binlog Dump%' AND s.VARIABLE_NAME = 'Ssl_cipher'")) {
            List<String> out = new java.util.ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        }
    }

    private static void awaitLeading(SyncService daemon) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < until) {
            if (!daemon.metrics().isEmpty() && daemon.metrics().stream().allMatch(m -> m.leader() && m.connected())) {
                return;
            }
            Thread.sleep(50);
        }
        fail("the pipelines did not start: " + daemon.metrics().stream().map(SyncMetrics::toString).toList());
    }

    @Test
    void a_mysql_certificate_from_another_ca_is_refused_with_78_by_the_pool_and_the_binlog_reader() throws Exception {
        Rpctl.Result r = servers.rpctl().with("RPCTL_MYSQL_TLS_CA", servers.otherCa.toString())
                .run("activity", "show", "--activity", "1");
        fails(r, 78, "mysql primary at 127.0.0.1:" + servers.mysqlPort, "certificate does not verify", "mysql.tls-ca");
        noPassword(r);

        Map<String, String> env = new HashMap<>(servers.env());
        env.put("RPCTL_MYSQL_TLS_CA", servers.otherCa.toString());
        RpctlException e = binlogFailure(config(env).mysql());
        assertEquals(ExitCode.CONFIG, e.exitCode(), e::toString);
        assertTrue(e.getMessage().contains("certificate does not verify") && e.getMessage().contains("mysql.tls-ca"),
                e.getMessage());
    }

    @Test
    void a_host_name_the_certificate_does_not_name_is_refused_under_full_verification_and_accepted_under_ca() {
        // the servers' certificate names 127.0.0.1, not localhost
        Rpctl rpctl = servers.rpctl().with("RPCTL_MYSQL_HOST", "localhost");
        fails(rpctl.run("activity", "show", "--activity", "1"), 78, "mysql primary at localhost:" + servers.mysqlPort,
                "certificate does not verify", "mysql.tls-verify: ca");
        Rpctl.Result ca = rpctl.with("RPCTL_MYSQL_TLS_VERIFY", "ca").run("activity", "list");
        assertEquals(0, ca.exitCode(), ca::toString);
    }

    @Test
    void the_binlog_reader_checks_the_host_name_too() throws Exception {
        Map<String, String> env = new HashMap<>(servers.env());
        env.put("RPCTL_MYSQL_HOST", "localhost");
        RpctlException e = binlogFailure(config(env).mysql());
        assertEquals(ExitCode.CONFIG, e.exitCode(), e::toString);
        assertTrue(e.getMessage().contains("certificate does not verify"), e.getMessage());
    }

    @Test
    void a_mysql_user_that_requires_a_client_certificate_is_served_with_the_configured_one() throws Exception {
        servers.rootSql("CREATE USER 'x509'@'%' IDENTIFIED BY 'xpw1' REQUIRE X509",
                "GRANT ALL PRIVILEGES ON rpctl.* TO 'x509'@'%'", "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'x509'@'%'");
        Rpctl as = asMysqlUser("rpctl", "x509", "xpw1");
        fails(as.run("activity", "list"), 78, "login refused for user 'x509'");
        Rpctl withCert = as.with("RPCTL_MYSQL_TLS_CERT", servers.clientCert.toString())
                .with("RPCTL_MYSQL_TLS_KEY", servers.clientKey.toString());
        Rpctl.Result r = withCert.run("activity", "list");
        assertEquals(0, r.exitCode(), r::toString);

        // the binlog reader presents it too: it reads until stopped instead of failing
        Map<String, String> env = new HashMap<>(servers.env());
        env.put("RPCTL_MYSQL_USER", "x509");
        env.put("RPCTL_MYSQL_PASSWORD", "xpw1");
        env.put("RPCTL_MYSQL_TLS_CERT", servers.clientCert.toString());
        env.put("RPCTL_MYSQL_TLS_KEY", servers.clientKey.toString());
        CountDownLatch connected = new CountDownLatch(1);
        BinlogSource source = new BinlogSource("x509-test", config(env).mysql(), 990_002,
                new BinlogSource.Tables(Set.of("rp_claim"), t -> List.of(), true), Duration.ofSeconds(5), new NoListener() {
                    @Override
                    public void connected(boolean up) {
                        if (up) {
                            connected.countDown();
                        }
                    }
                });
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                source.run(new BinlogPosition("binlog.000001", 4, ""));
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.start();
        try {
            assertTrue(connected.await(30, TimeUnit.SECONDS), () -> "not connected: " + thrown.get());
        } finally {
            source.stop();
            t.interrupt();
            t.join(10_000);
        }
    }

    @Test
    void a_redis_cluster_side_runs_over_verified_tls_and_refuses_a_certificate_from_another_ca() throws Exception {
        servers.startCluster();
        String nodes = String.join(",", servers.clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList());
        Rpctl cluster = servers.rpctl().with("RPCTL_SIDE_A_MODE", "cluster").with("RPCTL_SIDE_A_NODES", nodes);
        String a = Long.toString(Services.freshActivityId());
        ok(cluster, "activity", "create", "--activity", a, "--count", "10", "--amount", "100");
        ok(cluster, "claim", "--activity", a, "--user", "2");
        ok(cluster, "reconcile", "--activity", a);
        ok(cluster, "inspect", "--user", "2", "--activity", a);
        fails(cluster.with("RPCTL_SIDE_A_TLS_CA", servers.otherCa.toString()).run("inspect", "--user", "2", "--activity", a),
                78, "redis side a at " + nodes, "certificate does not verify", "side-a.tls-ca");
    }

    @Test
    void a_redis_certificate_from_another_ca_is_refused_with_78_naming_the_side() {
        Rpctl.Result r = servers.rpctl().with("RPCTL_SIDE_B_TLS_CA", servers.otherCa.toString())
                .run("inspect", "--user", "1", "--activity", "1");
        fails(r, 78, "redis side b at 127.0.0.1:" + servers.redisBPort, "certificate does not verify", "side-b.tls-ca");
        noPassword(r);
    }

    @Test
    void a_redis_side_that_requires_a_client_certificate_is_served_with_the_configured_one_and_refused_without() throws Exception {
        servers.startRedisRequiringClientCertificates();
        Rpctl side = servers.rpctl().with("RPCTL_SIDE_A_NODES", "127.0.0.1:" + servers.redisClientCertPort);
        // under TLS 1.3 the refusal comes after the handshake; without its alert this was "unreachable: Broken pipe", 69
        fails(side.run("inspect", "--user", "1", "--activity", "1"), 78,
                "redis side a at 127.0.0.1:" + servers.redisClientCertPort + " refused the TLS client certificate",
                "the server requires one: set side-a.tls-cert and side-a.tls-key");
        Rpctl withCert = side.with("RPCTL_SIDE_A_TLS_CERT", servers.clientCert.toString())
                .with("RPCTL_SIDE_A_TLS_KEY", servers.clientKey.toString());
        String a = Long.toString(Services.freshActivityId());
        ok(withCert, "activity", "create", "--activity", a, "--count", "10", "--amount", "100");
        ok(withCert, "claim", "--activity", a, "--user", "4");
        String entry = servers.redisCli(servers.redisClientCertPort, "GET", "rp:claim:" + a + ":4").strip();
        assertTrue(entry.startsWith("R|"), entry);
    }

    @Test
    void a_sentinel_side_finds_its_master_and_writes_to_it_over_verified_tls() throws Exception {
        servers.startSentinel();
        Rpctl sentinel = servers.rpctl().with("RPCTL_SIDE_A_MODE", "sentinel").with("RPCTL_SIDE_A_MASTER_NAME", "rpmaster")
                .with("RPCTL_SIDE_A_NODES", "127.0.0.1:" + servers.sentinelPort);
        String a = Long.toString(Services.freshActivityId());
        ok(sentinel, "activity", "create", "--activity", a, "--count", "10", "--amount", "100");
        ok(sentinel, "claim", "--activity", a, "--user", "6");
        ok(sentinel, "inspect", "--user", "6", "--activity", a);
        String entry = servers.redisCli(servers.redisAPort, "GET", "rp:claim:" + a + ":6").strip();
        assertTrue(entry.startsWith("R|"), entry);
        fails(sentinel.with("RPCTL_SIDE_A_TLS_CA", servers.otherCa.toString()).run("inspect", "--user", "6", "--activity", a),
                78, "redis side a at 127.0.0.1:" + servers.sentinelPort, "certificate does not verify", "side-a.tls-ca");
    }

    @Test
    void a_redis_side_without_tls_configured_cannot_talk_to_a_tls_only_server() {
        // the control: the servers really refuse plain connections, so the other tests prove TLS is used
        Rpctl.Result r = servers.rpctl().with("RPCTL_SIDE_A_TLS", "false").with("RPCTL_SIDE_A_TIMEOUT", "1s")
                .run("inspect", "--user", "1", "--activity", "1");
        assertEquals(69, r.exitCode(), r::toString);
    }

    /** The README's ACL SETUSER line for a role's user, for user {@code as} with password {@code password}. */
    static List<String> documentedAcl(String role, String as, String password) throws Exception {
        String line = java.nio.file.Files.readAllLines(Path.of("README.md")).stream()
                .filter(l -> l.startsWith("ACL SETUSER " + role + " ")).findFirst().orElseThrow();
        List<String> words = new java.util.ArrayList<>(List.of(line.split(" ")));
        words.set(2, as);
        words.replaceAll(w -> w.equals(">PASSWORD") ? ">" + password : w);
        return words;
    }

    static void aclUser(List<String> setuser) throws Exception {
        for (int port : List.of(servers.redisAPort, servers.redisBPort)) {
            String ok = servers.redisCli(port, setuser.toArray(String[]::new)).strip();
            assertEquals("OK", ok, setuser::toString);
        }
    }

    private static Rpctl asRedisUser(String user, String password) {
        return servers.rpctl().with("RPCTL_SIDE_A_USER", user).with("RPCTL_SIDE_A_PASSWORD", password)
                .with("RPCTL_SIDE_B_USER", user).with("RPCTL_SIDE_B_PASSWORD", password);
    }

    @Test
    void redis_users_with_exactly_the_documented_acl_rules_run_each_command() throws Exception {
        aclUser(documentedAcl("rpctl", "acl-writer", "wpass1"));
        aclUser(documentedAcl("rpctl-read", "acl-reader", "rpass1"));
        Rpctl writer = asRedisUser("acl-writer", "wpass1");
        String a = Long.toString(Services.freshActivityId());
        List<List<String>> commands = List.of(
                List.of("activity", "create", "--activity", a, "--count", "10", "--amount", "100"),
                List.of("claim", "--activity", a, "--user", "3"),
                List.of("claim", "--activity", a, "--users", "4-20", "--concurrency", "2", "--count", "20", "--read-ratio", "0.5"),
                List.of("warm", "--activity", a, "--bloom"),
                List.of("reconcile", "--activity", a),
                List.of("inspect", "--user", "3", "--activity", a, "--repair"),
                List.of("inspect", "--activity", a));
        for (List<String> c : commands) {
            Rpctl.Result r = writer.run(c.toArray(String[]::new));
            assertTrue(r.exitCode() == 0 || r.exitCode() == 1, () -> c + ": " + r);
            assertFalse(r.err().contains("NOPERM"), () -> c + ": " + r);
        }
        Rpctl.Result read = asRedisUser("acl-reader", "rpass1").run("inspect", "--user", "3", "--activity", a);
        assertEquals(0, read.exitCode(), read::toString);
    }

    @Test
    void a_redis_user_without_evalsha_gets_77_naming_the_side_the_user_and_the_command() throws Exception {
        List<String> rules = new java.util.ArrayList<>(documentedAcl("rpctl", "acl-noeval", "npass1"));
        assertTrue(rules.remove("+evalsha"));
        aclUser(rules);
        String a = Long.toString(Services.freshActivityId());
        assertEquals(0, servers.rpctl().run("activity", "create", "--activity", a, "--count", "10", "--amount", "100")
                .exitCode());
        Rpctl.Result r = asRedisUser("acl-noeval", "npass1").run("warm", "--activity", a, "--bloom");
        fails(r, 77, "redis side a at 127.0.0.1:" + servers.redisAPort, "user 'acl-noeval' may not run EVALSHA");
        assertFalse(r.err().contains("npass1"), r::toString);
    }

    /**
     * The README's CREATE USER and GRANT statements for MySQL, on database {@code database}, every
     * user with {@code password}; a role's statements are those naming its user.
     */
    static List<String> documentedGrants(String database, String password) throws Exception {
        List<String> lines = java.nio.file.Files.readAllLines(Path.of("README.md"));
        int from = lines.indexOf("### MySQL users and grants");
        List<String> out = new java.util.ArrayList<>();
        boolean inBlock = false;
        for (String l : lines.subList(from, lines.size())) {
            if (l.startsWith("```")) {
                if (inBlock) {
                    break;
                }
                inBlock = true;
            } else if (inBlock && (l.startsWith("CREATE USER ") || l.startsWith("GRANT "))) {
                out.add(l.replace("'PASSWORD'", "'" + password + "'").replace(" ON rpctl.", " ON " + database + ".")
                        .replaceAll(";$", ""));
            }
        }
        assertTrue(out.size() > 10, out::toString);
        return out;
    }

    private static Rpctl asMysqlUser(String database, String user, String password) {
        return servers.rpctl().with("RPCTL_MYSQL_DATABASE", database).with("RPCTL_MYSQL_USER", user)
                .with("RPCTL_MYSQL_PASSWORD", password);
    }

    private static void ok(Rpctl as, String... args) {
        Rpctl.Result r = as.run(args);
        assertEquals(0, r.exitCode(), () -> String.join(" ", args) + ": " + r);
    }

    @Test
    void mysql_users_with_exactly_the_documented_grants_run_each_command() throws Exception {
        String db = "rpctl_grants";
        String pw = "gpw" + Long.toHexString(System.nanoTime());
        servers.rootSql("CREATE DATABASE " + db);
        List<String> grants = documentedGrants(db, pw).stream().map(g -> g.replace("'rpctl_", "'g_")).toList();
        // the admin first: a table grant needs the table, which db init makes
        for (String statement : grants.stream().filter(g -> g.contains("'g_admin'")).toList()) {
            servers.rootSql(statement);
        }
        ok(asMysqlUser(db, "g_admin", pw), "db", "init");
        for (String statement : grants.stream().filter(g -> !g.contains("'g_admin'")).toList()) {
            servers.rootSql(statement);
        }
        Rpctl claims = asMysqlUser(db, "g_claims", pw);
        Rpctl ops = asMysqlUser(db, "g_ops", pw);
        Rpctl daemonUser = asMysqlUser(db, "g_daemon", pw);
        String a = Long.toString(Services.freshActivityId());
        ok(claims, "activity", "create", "--activity", a, "--count", "100", "--amount", "100");
        ok(claims, "activity", "show", "--activity", a);

        Map<String, String> env = new HashMap<>(servers.env());
        env.put("RPCTL_MYSQL_DATABASE", db);
        env.put("RPCTL_MYSQL_USER", "g_daemon");
        env.put("RPCTL_MYSQL_PASSWORD", pw);
        try (App app = new App(config(env))) {
            Config c = app.config();
            SyncService daemon = new SyncService(new SyncRepository(app.primary(), c.mapping()), app.sides("all"),
                    app.protocol(), c.mapping(), c.sync(), new SyncService.Options("grants-", true, false));
            daemon.start();
            try {
                awaitLeading(daemon);
                ok(claims, "claim", "--activity", a, "--user", "5");
                ok(claims, "claim", "--activity", a, "--users", "6-30", "--concurrency", "2", "--count", "40",
                        "--read-ratio", "0.5");
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (System.nanoTime() < until && daemon.metrics().stream().anyMatch(m -> m.rowsApplied() < 1)) {
                    Thread.sleep(100);
                }
                assertTrue(daemon.metrics().stream().allMatch(m -> m.rowsApplied() >= 1), daemon.metrics()::toString);
            } finally {
                daemon.shutdown();
            }
        }
        // the claims' figures were saved and are read back with the claim user's grants
        Rpctl.Result shown = claims.run("--json", "activity", "show", "--activity", a);
        assertEquals(0, shown.exitCode(), shown::toString);
        assertEquals("", shown.err(), shown::toString);
        assertTrue(new com.fasterxml.jackson.databind.ObjectMapper().readTree(shown.out()).get("claim_stats").get("claims")
                .asLong() > 0, shown::toString);
        ok(daemonUser, "status");
        ok(ops, "inspect", "--user", "5", "--activity", a);
        ok(ops, "inspect", "--activity", a);
        ok(ops, "warm", "--activity", a, "--top", "10");
        ok(ops, "warm", "--activity", a, "--bloom");
        ok(ops, "reconcile", "--activity", a);
        ok(ops, "reconcile", "--since", "1h");
    }

    @Test
    void a_mysql_user_missing_a_documented_grant_gets_77_naming_the_privilege() throws Exception {
        String pw = "mpw" + Long.toHexString(System.nanoTime());
        // the reconcile user without its grant on rpctl_reconcile, the daemon user without REPLICATION SLAVE,
        // the claim user without its grant on the claims' figures
        for (String statement : documentedGrants("rpctl", pw)) {
            String s = statement.replace("'rpctl_", "'m_");
            if (!s.contains("rpctl.rpctl_reconcile") && !s.startsWith("GRANT REPLICATION SLAVE")
                    && !s.contains("rpctl.rpctl_claim_stats")) {
                servers.rootSql(s);
            }
        }
        servers.rootSql("GRANT REPLICATION CLIENT ON *.* TO 'm_daemon'@'%'");
        String a = Long.toString(Services.freshActivityId());
        assertEquals(0, servers.rpctl().run("activity", "create", "--activity", a, "--count", "10", "--amount", "100")
                .exitCode());
        Rpctl.Result r = asMysqlUser("rpctl", "m_ops", pw).run("reconcile", "--activity", a);
        fails(r, 77, "user 'm_ops' lacks a privilege", "rpctl_reconcile");
        assertFalse(r.err().contains(pw), r::toString);
        // the claims' figures are not the claim's business: it is made, and only the figures are missing
        // (a warning in the log names the table and the privilege)
        Rpctl.Result claimed = asMysqlUser("rpctl", "m_claims", pw).run("claim", "--activity", a, "--user", "1");
        assertEquals(0, claimed.exitCode(), claimed::toString);
        Rpctl.Result shown = servers.rpctl().run("--json", "activity", "show", "--activity", a);
        com.fasterxml.jackson.databind.JsonNode doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(shown.out());
        assertEquals(1, doc.get("paid_count").asLong(), shown::toString);
        assertEquals(0, doc.get("claim_stats").get("claims").asLong(), shown::toString);

        Map<String, String> env = new HashMap<>(servers.env());
        env.put("RPCTL_MYSQL_USER", "m_daemon");
        env.put("RPCTL_MYSQL_PASSWORD", pw);
        RpctlException e = binlogFailure(config(env).mysql());
        assertEquals(ExitCode.NOPERM, e.exitCode(), e::toString);
        assertTrue(e.getMessage().contains("REPLICATION SLAVE"), e.getMessage());
    }

    @Test
    void the_daemon_stops_with_77_when_a_sides_user_may_not_run_evalsha() throws Exception {
        List<String> rules = new java.util.ArrayList<>(documentedAcl("rpctl", "acl-daemon-noeval", "dpass1"));
        assertTrue(rules.remove("+evalsha"));
        aclUser(rules);
        Map<String, String> env = new HashMap<>(servers.env());
        env.put("RPCTL_SIDE_B_USER", "acl-daemon-noeval");
        env.put("RPCTL_SIDE_B_PASSWORD", "dpass1");
        try (App app = new App(config(env))) {
            Config c = app.config();
            SyncService daemon = new SyncService(new SyncRepository(app.primary(), c.mapping()), app.sides("all"),
                    app.protocol(), c.mapping(), c.sync(), new SyncService.Options("noeval-", true, false));
            daemon.start();
            try {
                awaitLeading(daemon);
                String a = Long.toString(Services.freshActivityId());
                ok(servers.rpctl(), "activity", "create", "--activity", a, "--count", "10", "--amount", "100");
                ok(servers.rpctl(), "claim", "--activity", a, "--user", "1");
                // the claim's row reaches side b's lane, whose first write is refused
                // await returns when the daemon stops; a daemon that retried the refused write for
                // ever would never return, so the wait runs beside the test, which gives up on it
                // after minutes (a hang guard, not a figure) and fails
                java.util.concurrent.FutureTask<RpctlException> stopped = new java.util.concurrent.FutureTask<>(
                        () -> assertThrowsRpctl(daemon::await));
                Thread waiter = new Thread(stopped, "await-daemon");
                waiter.setDaemon(true);
                waiter.start();
                RpctlException e;
                try {
                    e = stopped.get(5, java.util.concurrent.TimeUnit.MINUTES);
                } catch (java.util.concurrent.TimeoutException hung) {
                    e = fail("the daemon kept running after its side refused EVALSHA");
                }
                assertEquals(ExitCode.NOPERM, e.exitCode(), e::toString);
                assertTrue(e.getMessage().contains("redis side b at 127.0.0.1:" + servers.redisBPort)
                        && e.getMessage().contains("user 'acl-daemon-noeval' may not run EVALSHA"), e.getMessage());
            } finally {
                daemon.shutdown();
            }
        }
    }

    private interface Blocking {
        void run() throws Exception;
    }

    private static RpctlException assertThrowsRpctl(Blocking b) {
        try {
            b.run();
        } catch (RpctlException e) {
            return e;
        } catch (Exception e) {
            fail("expected an RpctlException, got " + e);
        }
        return fail("the daemon ended without a failure");
    }

    /** Runs a binlog reader until it fails, and returns what it threw. */
    private static RpctlException binlogFailure(MysqlSettings mysql) throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        BinlogSource source = new BinlogSource("tls-test", mysql, 990_001, new BinlogSource.Tables(Set.of("rp_claim"),
                t -> List.of(), true), Duration.ofSeconds(5), new NoListener());
        Thread t = new Thread(() -> {
            try {
                source.run(new BinlogPosition("binlog.000001", 4, ""));
            } catch (Throwable e) {
                thrown.set(e);
            } finally {
                done.countDown();
            }
        });
        t.start();
        if (!done.await(60, TimeUnit.SECONDS)) {
            source.stop();
            t.interrupt();
            fail("the binlog reader went on retrying a server whose certificate does not verify");
        }
        return assertInstanceOf(RpctlException.class, thrown.get());
    }

    private static class NoListener implements BinlogSource.Listener {
        @Override
        public void row(RowChange change) {
        }

        @Override
        public void commit(BinlogPosition end) {
        }

        @Override
        public void prepared(XaId xid, BinlogPosition end) {
        }

        @Override
        public void resolved(XaId xid, boolean committed, List<RowChange> rows, BinlogPosition end) {
        }

        @Override
        public void abandon(BinlogPosition resumeFrom) {
        }
    }
}
