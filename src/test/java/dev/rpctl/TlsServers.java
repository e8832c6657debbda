package dev.rpctl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;

/**
 * A MariaDB and two Redis servers that speak TLS only, with a CA and certificates made by
 * {@code openssl} in a temporary directory: the servers' certificates name 127.0.0.1 (an IP
 * address, not "localhost"), a client certificate is signed by the same CA, and a second CA
 * signed nothing the servers use. Ports are 23306, 26379 and 26380 (a cluster: 29001-29003, its bus
 * 39001-39003) plus
 * RPCTL_SERVICES_PORT_OFFSET, beside bin/services' (13306, 16379, ...), so a run disturbs no
 * one else's servers. The MariaDB has the binary log as the daemon needs it and the user rpctl
 * with a random password ({@link #password()}). {@link #startKafka()} adds a single-node KRaft
 * broker from the jars bin/services fetched (.local/kafka/lib), with TLS listeners only.
 */
public final class TlsServers implements AutoCloseable {
    public final Path dir;
    public final Path ca;
    public final Path otherCa;
    public final Path clientCert;
    public final Path clientKey;
    public final int mysqlPort;
    public final int redisAPort;
    public final int redisBPort;
    /** A TLS-only Redis that requires a client certificate signed by the CA, started by {@link #startRedisRequiringClientCertificates()}. */
    public final int redisClientCertPort;
    /** A TLS-only Sentinel watching side a's Redis as master "rpmaster", started by {@link #startSentinel()}. */
    public final int sentinelPort;
    /** The three masters of a TLS-only Redis Cluster, started by {@link #startCluster()}. */
    public final List<Integer> clusterPorts;
    private final String password = random();
    private final String redisPassword = random();
    /** The broker's listeners: TLS; SASL (SCRAM-SHA-512 and PLAIN) over TLS; TLS requiring a client certificate. */
    public final int kafkaTlsPort;
    public final int kafkaSaslPort;
    public final int kafkaClientCertPort;
    private final int kafkaControllerPort;
    private final String kafkaPassword = random();
    private final List<Process> redis = new ArrayList<>();
    private Process kafka;
    private ScratchMariadb mysql;

    private TlsServers(Path dir) {
        this.dir = dir;
        int offset = Integer.parseInt(System.getenv().getOrDefault("RPCTL_SERVICES_PORT_OFFSET", "0"));
        this.mysqlPort = 23306 + offset;
        this.redisAPort = 26379 + offset;
        this.redisBPort = 26380 + offset;
        this.redisClientCertPort = 26381 + offset;
        this.sentinelPort = 26390 + offset;
        this.clusterPorts = List.of(29001 + offset, 29002 + offset, 29003 + offset);
        this.kafkaTlsPort = 29092 + offset;
        this.kafkaSaslPort = 29093 + offset;
        this.kafkaClientCertPort = 29094 + offset;
        this.kafkaControllerPort = 29095 + offset;
        this.ca = dir.resolve("ca.pem");
        this.otherCa = dir.resolve("other-ca.pem");
        this.clientCert = dir.resolve("client.pem");
        this.clientKey = dir.resolve("client.key");
    }

    /** Makes the certificates and starts the three servers; the caller closes them. */
    public static TlsServers start(Path dir) throws Exception {
        TlsServers t = new TlsServers(dir);
        try {
            t.certificates();
            t.startMysql();
            t.startRedis(t.redisAPort, "a");
            t.startRedis(t.redisBPort, "b");
            return t;
        } catch (Exception e) {
            t.close();
            throw e;
        }
    }

    /** Makes the certificates and starts only the Kafka broker ({@link #startKafka()}); the caller closes it. */
    public static TlsServers kafkaOnly(Path dir) throws Exception {
        TlsServers t = new TlsServers(dir);
        try {
            t.certificates();
            t.startKafka();
            return t;
        } catch (Exception e) {
            t.close();
            throw e;
        }
    }

    /** The password of the MySQL user rpctl (random, for the check that no output shows it). */
    public String password() {
        return password;
    }

    /** The SASL password of the Kafka user rpctl (SCRAM-SHA-512 and PLAIN). */
    public String kafkaPassword() {
        return kafkaPassword;
    }

    /**
     * Starts the broker: its certificate is the servers' (names 127.0.0.1), the SCRAM credential
     * of user rpctl is written at format time, the controller listens in plain text on loopback.
     */
    public void startKafka() throws IOException, InterruptedException {
        Path lib = Path.of(".local/kafka/lib").toAbsolutePath();
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException("no Kafka jars in " + lib + ": run bin/services up once");
        }
        Path d = Files.createDirectories(dir.resolve("kafka"));
        Path keystore = d.resolve("broker.pem");
        Files.writeString(keystore, Files.readString(dir.resolve("server.key")) + Files.readString(dir.resolve("server.pem")));
        Path conf = d.resolve("server.properties");
        Files.writeString(conf, String.join("\n",
                "process.roles=broker,controller", "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + kafkaControllerPort,
                "listeners=SSL://127.0.0.1:" + kafkaTlsPort + ",SASL_SSL://127.0.0.1:" + kafkaSaslPort
                        + ",MTLS://127.0.0.1:" + kafkaClientCertPort + ",CONTROLLER://127.0.0.1:" + kafkaControllerPort,
                "advertised.listeners=SSL://127.0.0.1:" + kafkaTlsPort + ",SASL_SSL://127.0.0.1:" + kafkaSaslPort
                        + ",MTLS://127.0.0.1:" + kafkaClientCertPort,
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,MTLS:SSL",
                "controller.listener.names=CONTROLLER", "inter.broker.listener.name=SSL",
                "ssl.keystore.type=PEM", "ssl.keystore.location=" + keystore,
                "ssl.truststore.type=PEM", "ssl.truststore.location=" + ca,
                "listener.name.mtls.ssl.client.auth=required",
                "sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
                        + "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule"
                        + " required user_rpctl=\"" + kafkaPassword + "\";",
                "log.dirs=" + d.resolve("data"), "num.partitions=2", "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=2", "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1", "group.initial.rebalance.delay.ms=0") + "\n");
        Path log4j = d.resolve("log4j.properties");
        Files.writeString(log4j, "log4j.rootLogger=INFO, out\nlog4j.appender.out=org.apache.log4j.ConsoleAppender\n"
                + "log4j.appender.out.layout=org.apache.log4j.PatternLayout\n"
                + "log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n\n");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> jvm = List.of(java, "-Xmx256m", "-Xms64m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-XX:+ExitOnOutOfMemoryError", "-Dlog4j.configuration=file:" + log4j, "-cp", lib + "/*");
        List<String> format = new ArrayList<>(jvm);
        format.addAll(List.of("kafka.tools.StorageTool", "format", "-t", org.apache.kafka.common.Uuid.randomUuid().toString(), "-c", conf.toString(),
                "--add-scram", "SCRAM-SHA-512=[name=rpctl,password=" + kafkaPassword + "]"));
        String out = run(format);
        if (!out.contains("Formatting")) {
            throw new IllegalStateException("formatting the Kafka storage failed: " + out);
        }
        List<String> broker = new ArrayList<>(jvm);
        broker.addAll(List.of("kafka.Kafka", conf.toString()));
        Path brokerLog = d.resolve("kafka.log");
        kafka = new ProcessBuilder(broker).redirectErrorStream(true).redirectOutput(brokerLog.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.readString(brokerLog).contains("Kafka Server started")) {
            if (!kafka.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("the TLS Kafka broker did not start: " + Files.readString(brokerLog));
            }
            Thread.sleep(100);
        }
    }

    /** The environment of rpctl's Kafka clients towards one listener of the broker, TLS on and verified. */
    public Map<String, String> kafkaEnv(int port) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RPCTL_KAFKA_BOOTSTRAP", "127.0.0.1:" + port);
        env.put("RPCTL_KAFKA_TLS", "true");
        env.put("RPCTL_KAFKA_TLS_CA", ca.toString());
        if (port == kafkaSaslPort) {
            env.put("RPCTL_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512");
            env.put("RPCTL_KAFKA_USER", "rpctl");
            env.put("RPCTL_KAFKA_PASSWORD", kafkaPassword);
        }
        return env;
    }

    /** The password of the Redis user rpctl on both sides. */
    public String redisPassword() {
        return redisPassword;
    }

    /**
     * The environment of rpctl on these servers, TLS on and fully verified against the test CA:
     * MySQL as rpctl, the sides as the Redis ACL user rpctl.
     */
    public Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RPCTL_MYSQL_HOST", "127.0.0.1");
        env.put("RPCTL_MYSQL_PORT", Integer.toString(mysqlPort));
        env.put("RPCTL_MYSQL_USER", "rpctl");
        env.put("RPCTL_MYSQL_PASSWORD", password);
        env.put("RPCTL_MYSQL_DATABASE", "rpctl");
        env.put("RPCTL_MYSQL_TLS", "true");
        env.put("RPCTL_MYSQL_TLS_CA", ca.toString());
        for (String side : List.of("A", "B")) {
            int port = side.equals("A") ? redisAPort : redisBPort;
            env.put("RPCTL_SIDE_" + side + "_NODES", "127.0.0.1:" + port);
            env.put("RPCTL_SIDE_" + side + "_TLS", "true");
            env.put("RPCTL_SIDE_" + side + "_TLS_CA", ca.toString());
            env.put("RPCTL_SIDE_" + side + "_USER", "rpctl");
            env.put("RPCTL_SIDE_" + side + "_PASSWORD", redisPassword);
        }
        return env;
    }

    /** rpctl with {@link #env()} and nothing else of the test process's environment. */
    public Rpctl rpctl() {
        Rpctl r = Rpctl.isolated(dir);
        for (Map.Entry<String, String> e : env().entrySet()) {
            r = r.with(e.getKey(), e.getValue());
        }
        return r;
    }

    /** A connection as the server's root user (no password), over TLS (not verified: the fixture's own). */
    public Connection root() throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + mysqlPort + "/rpctl?sslMode=REQUIRED",
                "root", "");
    }

    public void rootSql(String... statements) throws SQLException {
        try (Connection c = root(); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    /** Runs redis-cli over TLS as the Redis default user against one side, and returns what it printed. */
    public String redisCli(int port, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "--tls", "--cacert", ca.toString(), "--cert",
                clientCert.toString(), "--key", clientKey.toString(), "-h", "127.0.0.1", "-p", Integer.toString(port),
                "--no-auth-warning"));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    private void certificates() throws IOException, InterruptedException {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365", "-subj", "/CN=rpctl test CA",
                "-keyout", "ca.key", "-out", "ca.pem");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365", "-subj", "/CN=another CA",
                "-keyout", "other-ca.key", "-out", "other-ca.pem");
        Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
        Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
        for (String who : List.of("server", "client")) {
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=rpctl test " + who, "-keyout", who + ".key",
                    "-out", who + ".csr");
            openssl("x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-days", "365", "-extfile", who + ".ext", "-out", who + ".pem");
        }
        // as an operator keeps them: rpctl warns about a key others may read
        Files.setPosixFilePermissions(clientKey, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    }

    private void startMysql() throws IOException, InterruptedException, SQLException {
        Path m = Files.createDirectories(dir.resolve("mariadb"));
        mysql = ScratchMariadb.start(m, mysqlPort, "--ssl-ca=" + ca, "--ssl-cert=" + dir.resolve("server.pem"),
                "--ssl-key=" + dir.resolve("server.key"), "--require-secure-transport=ON",
                "--log-bin=" + m.resolve("binlog"), "--binlog-format=ROW", "--binlog-row-image=FULL",
                "--binlog-row-metadata=FULL", "--server-id=1", "--performance-schema=ON", "--log-bin-trust-function-creators=1",
                "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci");
        rootSql("CREATE USER 'rpctl'@'%' IDENTIFIED BY '" + password + "'",
                "GRANT ALL PRIVILEGES ON rpctl.* TO 'rpctl'@'%'",
                "GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'rpctl'@'%'");
    }

    /** Starts a TLS-only Redis with tls-auth-clients yes on {@link #redisClientCertPort}. */
    public void startRedisRequiringClientCertificates() throws IOException, InterruptedException {
        startRedis(redisClientCertPort, "client-cert", "tls-auth-clients yes");
    }

    /** Starts a Sentinel that speaks TLS only, to its clients and to the master it watches (side a's Redis). */
    public void startSentinel() throws IOException, InterruptedException {
        List<String> lines = new ArrayList<>(tlsOnly(sentinelPort, "sentinel"));
        lines.addAll(List.of("tls-replication yes", "sentinel monitor rpmaster 127.0.0.1 " + redisAPort + " 1"));
        launchRedis(sentinelPort, "sentinel", lines, true);
    }

    /** Starts a Redis Cluster of three TLS-only masters (the bus over TLS too) on {@link #clusterPorts}. */
    public void startCluster() throws IOException, InterruptedException {
        List<String> create = new ArrayList<>(List.of("--cluster", "create"));
        for (int port : clusterPorts) {
            startRedis(port, "cluster-" + port, "cluster-enabled yes", "cluster-config-file nodes.conf", "tls-cluster yes");
            create.add("127.0.0.1:" + port);
        }
        create.add("--cluster-yes");
        String out = redisCli(clusterPorts.get(0), create.toArray(String[]::new));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (clusterPorts.stream().anyMatch(p -> !clusterOk(p))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the TLS cluster did not form: " + out);
            }
            Thread.sleep(200);
        }
    }

    private boolean clusterOk(int port) {
        try {
            return redisCli(port, "CLUSTER", "INFO").contains("cluster_state:ok");
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private void startRedis(int port, String side, String... extra) throws IOException, InterruptedException {
        List<String> lines = new ArrayList<>(tlsOnly(port, side));
        lines.addAll(List.of("save \"\"", "appendonly no", "user rpctl on >" + redisPassword + " ~* &* +@all"));
        lines.addAll(List.of(extra));
        launchRedis(port, side, lines, false);
    }

    private List<String> tlsOnly(int port, String side) {
        return List.of("port 0", "tls-port " + port, "bind 127.0.0.1", "dir " + dir.resolve("redis-" + side),
                "tls-cert-file " + dir.resolve("server.pem"), "tls-key-file " + dir.resolve("server.key"),
                "tls-ca-cert-file " + ca, "tls-auth-clients optional");
    }

    private void launchRedis(int port, String side, List<String> lines, boolean sentinel)
            throws IOException, InterruptedException {
        Path d = Files.createDirectories(dir.resolve("redis-" + side));
        Path conf = d.resolve("redis.conf");
        Files.writeString(conf, String.join("\n", lines) + "\n");
        List<String> cmd = new ArrayList<>(List.of("redis-server", conf.toString()));
        if (sentinel) {
            cmd.add("--sentinel");
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(d.resolve("redis.log").toFile()).start();
        redis.add(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!redisCli(port, "PING").strip().equals("PONG")) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("redis with TLS did not start on " + port + ": "
                        + Files.readString(d.resolve("redis.log")));
            }
            Thread.sleep(100);
        }
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        run(cmd);
    }

    private String run(List<String> cmd) throws IOException, InterruptedException {
        Path log = Files.createTempFile(dir, "run", ".out");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " did not finish: " + Files.readString(log));
        }
        String out = Files.readString(log);
        Files.delete(log);
        if (p.exitValue() != 0 && cmd.get(0).equals("openssl")) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    private static String random() {
        byte[] b = new byte[12];
        new SecureRandom().nextBytes(b);
        return "pw" + HexFormat.of().formatHex(b);
    }

    @Override
    public void close() throws Exception {
        if (kafka != null) {
            kafka.destroy();
            if (!kafka.waitFor(30, TimeUnit.SECONDS)) {
                kafka.destroyForcibly();
            }
        }
        for (Process p : redis) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        if (mysql != null) {
            mysql.close();
        }
    }
}
