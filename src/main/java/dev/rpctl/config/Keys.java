package dev.rpctl.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Every configuration key, in the order {@code config show} lists them. */
public final class Keys {

    private static final List<Key<?>> ALL = new ArrayList<>();

    private static final ValueType<String> IDENTIFIER = ValueType.STRING.named("SQL identifier");
    private static final ValueType<String> ADDRESS = ValueType.STRING.named("host:port");
    private static final ValueType<String> ADDRESSES = ValueType.STRING.named("comma-separated host:port");
    private static final ValueType<String> PATH = ValueType.STRING.named("file path");

    private static final Pattern SQL_IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
    private static final Pattern KAFKA_NAME = Pattern.compile("[A-Za-z0-9._-]{1,249}");

    private Keys() {
    }

    // --- MySQL primary

    public static final Key<String> MYSQL_HOST = define("mysql.host", ValueType.STRING, "127.0.0.1",
            "Host of the MySQL primary. Claims, cache fills and the binlog all use the primary.", Keys::notBlank);
    public static final Key<Integer> MYSQL_PORT = define("mysql.port", ValueType.integer(1, 65535), 3306,
            "Port of the MySQL primary.");
    public static final Key<String> MYSQL_DATABASE = define("mysql.database", ValueType.STRING, "rpctl",
            "Database that holds the claim tables and rpctl's own tables.", Keys::notBlank);
    public static final Key<String> MYSQL_USER = define("mysql.user", ValueType.STRING, "rpctl",
            "User to log in as; the sync daemon also needs REPLICATION SLAVE and REPLICATION CLIENT. README 'Security'"
                    + " gives the grants of each command.", Keys::notBlank);
    public static final Key<String> MYSQL_PASSWORD = define("mysql.password", ValueType.SECRET, "",
            "Password of mysql.user. Give it through RPCTL_MYSQL_PASSWORD or ${env:NAME}, not in the file.");
    public static final Key<Integer> MYSQL_POOL_SIZE = define("mysql.pool-size", ValueType.integer(1, 512), 16,
            "Connections in the pool of one rpctl process.");
    public static final Key<Duration> MYSQL_CONNECT_TIMEOUT = define("mysql.connect-timeout", ValueType.DURATION,
            Duration.ofSeconds(3), "How long to wait for a MySQL connection before giving up.", Keys::positive);
    public static final Key<Boolean> MYSQL_TLS = define("mysql.tls", ValueType.BOOLEAN, false,
            "Connect to MySQL over TLS: the pool, the locks and the binlog stream. The replica uses the same"
                    + " TLS settings.");
    public static final Key<String> MYSQL_TLS_CA = define("mysql.tls-ca", PATH, "",
            "PEM file of the CA certificate(s) that signed the MySQL server's certificate; blank trusts the"
                    + " JVM's own CA certificates.");
    public static final Key<TlsVerify> MYSQL_TLS_VERIFY = define("mysql.tls-verify", ValueType.oneOf(TlsVerify.class),
            TlsVerify.FULL, "How much of the MySQL server's certificate to check: full (signed by the CA and"
                    + " naming mysql.host), ca (signed by the CA) or none (encrypted, but a man in the middle is"
                    + " accepted; logged as a warning).");
    public static final Key<String> MYSQL_TLS_CERT = define("mysql.tls-cert", PATH, "",
            "PEM file of a client certificate, for a server that requires one (REQUIRE X509); blank for none.");
    public static final Key<String> MYSQL_TLS_KEY = define("mysql.tls-key", PATH, "",
            "PEM file of the private key of mysql.tls-cert (PKCS#8, unencrypted); keep it readable by rpctl only.");

    // --- MySQL replica, shown beside the primary; fills never use it, a lagging replica would cache old versions

    public static final Key<String> REPLICA_HOST = define("replica.host", ValueType.STRING, "",
            "Host of a read replica, whose row and lag inspect shows beside the primary's;"
                    + " blank means there is none.");
    public static final Key<Integer> REPLICA_PORT = define("replica.port", ValueType.integer(1, 65535), 3306,
            "Port of the read replica.");
    public static final Key<String> REPLICA_USER = define("replica.user", ValueType.STRING, "",
            "User for the replica; blank means mysql.user.");
    public static final Key<String> REPLICA_PASSWORD = define("replica.password", ValueType.SECRET, "",
            "Password for the replica; blank means mysql.password.");

    // --- Redis cache sides

    /** The keys of one cache side, {@code side-a.*} or {@code side-b.*}. */
    public record SideKeys(String side, Key<SideMode> mode, Key<List<HostPort>> nodes, Key<String> masterName,
                           Key<String> user, Key<String> password, Key<Boolean> tls, Key<String> tlsCa,
                           Key<TlsVerify> tlsVerify, Key<String> tlsCert, Key<String> tlsKey, Key<Integer> database,
                           Key<Duration> timeout, Key<Integer> poolSize) {
    }

    public static final SideKeys SIDE_A = side("a", "127.0.0.1:6379");
    public static final SideKeys SIDE_B = side("b", "127.0.0.1:6380");

    public static final Key<SideMode> SIDE_A_MODE = SIDE_A.mode();
    public static final Key<List<HostPort>> SIDE_A_NODES = SIDE_A.nodes();
    public static final Key<String> SIDE_A_MASTER_NAME = SIDE_A.masterName();
    public static final Key<String> SIDE_A_USER = SIDE_A.user();
    public static final Key<String> SIDE_A_PASSWORD = SIDE_A.password();
    public static final Key<Boolean> SIDE_A_TLS = SIDE_A.tls();
    public static final Key<Integer> SIDE_A_DATABASE = SIDE_A.database();
    public static final Key<Duration> SIDE_A_TIMEOUT = SIDE_A.timeout();
    public static final Key<Integer> SIDE_A_POOL_SIZE = SIDE_A.poolSize();

    public static final Key<SideMode> SIDE_B_MODE = SIDE_B.mode();
    public static final Key<List<HostPort>> SIDE_B_NODES = SIDE_B.nodes();
    public static final Key<String> SIDE_B_MASTER_NAME = SIDE_B.masterName();
    public static final Key<String> SIDE_B_USER = SIDE_B.user();
    public static final Key<String> SIDE_B_PASSWORD = SIDE_B.password();
    public static final Key<Boolean> SIDE_B_TLS = SIDE_B.tls();
    public static final Key<Integer> SIDE_B_DATABASE = SIDE_B.database();
    public static final Key<Duration> SIDE_B_TIMEOUT = SIDE_B.timeout();
    public static final Key<Integer> SIDE_B_POOL_SIZE = SIDE_B.poolSize();

    // --- Table mapping and cache entry lifetimes

    public static final Key<String> MAPPING_ACTIVITY_TABLE = define("mapping.activity-table", IDENTIFIER,
            "rp_activity", "Table with the budget of each activity.", Keys::sqlIdentifier);
    public static final Key<String> MAPPING_CLAIM_TABLE = define("mapping.claim-table", IDENTIFIER,
            "rp_claim", "Table with one row per claim, keyed by (activity_id, user_id).", Keys::claimTable);
    public static final Key<String> MAPPING_CHECKPOINT_TABLE = define("mapping.checkpoint-table",
            IDENTIFIER, "rpctl_checkpoint", "Table where each pipeline saves its binlog position.",
            Keys::sqlIdentifier);
    public static final Key<String> MAPPING_HEARTBEAT_TABLE = define("mapping.heartbeat-table", IDENTIFIER,
            "rpctl_heartbeat", "Table the daemon writes often to measure its own lag in milliseconds.",
            Keys::sqlIdentifier);
    public static final Key<String> MAPPING_KEY_TEMPLATE = define("mapping.key-template", ValueType.STRING,
            "rp:claim:<activity>:<user>",
            "Redis key of one claim; <activity> and <user> are replaced by the ids. No '{' or '}':"
                    + " on a Redis Cluster they form a hash tag.", Keys::keyTemplate);
    public static final Key<String> MAPPING_VERSION_COLUMN = define("mapping.version-column", IDENTIFIER,
            "version", "Column every write of a row increments; cache writes compare it.", Keys::sqlIdentifier);
    public static final Key<Duration> MAPPING_ENTRY_TTL = define("mapping.entry-ttl", ValueType.DURATION,
            Duration.ofHours(24), "Lifetime of a cache entry filled from a row.", Keys::positive);
    public static final Key<Duration> MAPPING_PLACEHOLDER_TTL = define("mapping.placeholder-ttl",
            ValueType.DURATION, Duration.ofSeconds(30),
            "Lifetime of a placeholder, the entry that answers \"no row\" without asking the database.",
            Keys::positive);
    public static final Key<Duration> MAPPING_TOMBSTONE_TTL = define("mapping.tombstone-ttl", ValueType.DURATION,
            Duration.ofSeconds(60), "Lifetime of a tombstone, the entry an invalidation writes instead of a DEL.",
            Keys::positive);
    public static final Key<Duration> MAPPING_LEASE_TTL = define("mapping.lease-ttl", ValueType.DURATION,
            Duration.ofSeconds(2), "Lifetime of the lease a reader takes on a miss; longer than a primary read.",
            Keys::positive);

    // --- Bloom filters of claimers

    public static final Key<Double> BLOOM_FALSE_POSITIVE_RATE = define("bloom.false-positive-rate",
            ValueType.fraction(0, 0.5), 0.01,
            "Share of users who never claimed that an activity's Bloom filter still sends to the database;"
                    + " 'warm --bloom' sizes the filter from it and the activity's count.");
    public static final Key<Duration> BLOOM_TTL = define("bloom.ttl", ValueType.DURATION, Duration.ofDays(7),
            "Lifetime of an activity's Bloom filter on a side, from the last 'warm --bloom'.", Keys::positive);

    // --- warm

    public static final Key<String> WARM_TOP_QUERY = define("warm.top-query", ValueType.STRING,
            "SELECT user_id FROM <claim-table> WHERE activity_id = ? ORDER BY updated_at DESC LIMIT ?",
            "Query of 'warm --top N': the user ids to warm, given the activity id and N as its two parameters;"
                    + " <claim-table> stands for mapping.claim-table.",
            Keys::topQuery);

    // --- Binlog sync pipelines

    public static final Key<Integer> SYNC_LANES = define("sync.lanes", ValueType.integer(1, 256), 2,
            "Ordered lanes per pipeline; one user's changes always go through the same lane. Each lane is a thread"
                    + " writing batches of compare-and-sets: on a small host fewer lanes keep lag lower; add lanes for"
                    + " a distant side, whose round trips they overlap.");
    public static final Key<Integer> SYNC_QUEUE_CAPACITY = define("sync.queue-capacity",
            ValueType.integer(16, Integer.MAX_VALUE), 10_000,
            "Changes a lane queues before the binlog reader waits for it.");
    public static final Key<Integer> SYNC_BATCH_SIZE = define("sync.batch-size", ValueType.integer(1, 10_000), 256,
            "Most cache writes a lane pipelines in one round trip.");
    public static final Key<Duration> SYNC_CHECKPOINT_INTERVAL = define("sync.checkpoint-interval",
            ValueType.DURATION, Duration.ofMillis(250), "How often a pipeline saves its binlog position.",
            Keys::positive);
    public static final Key<Duration> SYNC_HEARTBEAT_INTERVAL = define("sync.heartbeat-interval",
            ValueType.DURATION, Duration.ofMillis(100), "How often the daemon writes its heartbeat row.",
            Keys::positive);
    public static final Key<Long> SYNC_SERVER_ID_BASE = define("sync.server-id-base",
            ValueType.longInteger(1, 4_294_967_000L), 4200L,
            "Base of the binlog clients' MySQL server ids: each leading pipeline reads as this plus a slot"
                    + " of 0-63 that its lock session holds, so no two share one. Replicas of the same server must"
                    + " not use ids in that range (base to base + 63).");
    public static final Key<Duration> SYNC_KEEPALIVE_INTERVAL = define("sync.keepalive-interval",
            ValueType.DURATION, Duration.ofSeconds(5), "How often an idle binlog connection is checked.",
            Keys::positive);
    public static final Key<BadDataPolicy> SYNC_ON_BAD_DATA = define("sync.on-bad-data",
            ValueType.oneOf(BadDataPolicy.class), BadDataPolicy.FAIL,
            "What to do with an undecodable binlog row or cache entry: fail (exit 65), warn and go on,"
                    + " or skip it counting only in the metrics; going on past a cache entry replaces it.");
    public static final Key<Integer> SYNC_MAX_EVENT_BYTES = define("sync.max-event-bytes",
            ValueType.integer(1024, 1 << 30), 16 << 20,
            "Largest binlog event or Kafka message (key and value) rpctl reads, in bytes; a larger one is bad data"
                    + " (sync.on-bad-data) and is passed over unread. An event of 16 MiB or more arrives whole from"
                    + " the binlog library, within the server's max_allowed_packet.");
    public static final Key<Duration> SYNC_UNHEALTHY_LAG = define("sync.unhealthy-lag", ValueType.DURATION,
            Duration.ofSeconds(30), "Lag of a side, or time a lane has retried one batch, beyond which /health answers 503"
                    + " (a side down, a stuck lane).",
            Keys::positive);

    // --- Claim path

    public static final Key<Integer> CLAIM_WRITE_THROUGH_RETRIES = define("claim.write-through-retries",
            ValueType.integer(0, 10), 3, "Retries of the write-through to one side after a claim commits.");
    public static final Key<Duration> CLAIM_WRITE_THROUGH_TIMEOUT = define("claim.write-through-timeout",
            ValueType.DURATION, Duration.ofMillis(200),
            "Time the write-through to one side may take; the binlog pipeline repairs what it misses.",
            Keys::positive);
    public static final Key<Integer> CLAIM_BUDGET_SHARDS = define("claim.budget-shards", ValueType.integer(1, 1024),
            32, "Rows a new activity's budget is split over, so concurrent claims do not queue on one row lock.");
    public static final Key<Integer> CLAIM_COMMITTERS = define("claim.committers", ValueType.integer(1, 64), 2,
            "Threads that commit claims; each commits all claims queued at once in one transaction, so fewer threads make bigger groups.");
    public static final Key<Integer> CLAIM_MAX_GROUP = define("claim.max-group", ValueType.integer(1, 1024), 128,
            "Claims of one activity a committer's transaction takes at most. Past claim.committers x this many"
                    + " concurrent claims the rest wait a turn; bigger groups spread each commit over more claims.");
    public static final Key<Integer> CLAIM_READ_FALLBACK_CONCURRENCY = define("claim.read-fallback-concurrency",
            ValueType.integer(0, 512), 8,
            "Reads at once, per process and side, that go to the primary while their side cannot be reached; a read"
                    + " beyond that fails (exit 69) instead of adding to the load on MySQL. 0: such reads fail.");

    // --- Kafka mode

    public static final Key<String> KAFKA_BOOTSTRAP = define("kafka.bootstrap", ADDRESSES,
            "127.0.0.1:9092", "Kafka brokers to start from, host:port separated by commas.", Keys::hostPorts);
    public static final Key<String> KAFKA_TOPIC = define("kafka.topic", ValueType.STRING, "rpctl.claims",
            "Topic row changes are published to, keyed by activity and user id.", Keys::kafkaName);
    public static final Key<String> KAFKA_GROUP_PREFIX = define("kafka.group-prefix", ValueType.STRING,
            "rpctl-apply", "A side's appliers form the consumer group <prefix>-<side>.",
            Keys::kafkaName);
    public static final Key<String> KAFKA_DEAD_LETTER_TOPIC = define("kafka.dead-letter-topic", ValueType.STRING, "",
            "Topic an applier copies a message it cannot read to, under sync.on-bad-data warn or skip, with headers"
                    + " naming where it was and why; blank: none.", Keys::blankOrKafkaName);
    public static final Key<Integer> KAFKA_PARTITIONS = define("kafka.partitions", ValueType.integer(1, 10_000), 12,
            "Partitions of kafka.topic when the publisher creates it: the most appliers one side can spread over.");
    public static final Key<Boolean> KAFKA_TLS = define("kafka.tls", ValueType.BOOLEAN, false,
            "Connect to the Kafka brokers over TLS (security.protocol SSL, or SASL_SSL with kafka.sasl-mechanism):"
                    + " the publisher, the appliers and status.");
    public static final Key<String> KAFKA_TLS_CA = define("kafka.tls-ca", PATH, "",
            "PEM file of the CA certificate(s) that signed the brokers' certificates; blank trusts the JVM's own CA"
                    + " certificates.");
    public static final Key<TlsVerify> KAFKA_TLS_VERIFY = define("kafka.tls-verify", ValueType.oneOf(TlsVerify.class),
            TlsVerify.FULL, "How much of the brokers' certificates to check: full (signed by the CA and naming the host"
                    + " connected to, as the brokers advertise it), ca (signed by the CA), or none (encrypted, but a man in"
                    + " the middle is accepted; logged as a warning).");
    public static final Key<String> KAFKA_TLS_CERT = define("kafka.tls-cert", PATH, "",
            "PEM file of a client certificate, for brokers with ssl.client.auth=required; blank for none.");
    public static final Key<String> KAFKA_TLS_KEY = define("kafka.tls-key", PATH, "",
            "PEM file of the private key of kafka.tls-cert (PKCS#8, unencrypted); keep it readable by rpctl only.");
    public static final Key<String> KAFKA_SASL_MECHANISM = define("kafka.sasl-mechanism", ValueType.STRING, "",
            "SASL login to the brokers as kafka.user: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; blank for none."
                    + " Without kafka.tls, PLAIN sends the password as it is (logged as a warning).",
            Keys::saslMechanism);
    public static final Key<String> KAFKA_USER = define("kafka.user", ValueType.STRING, "",
            "SASL user of kafka.sasl-mechanism.");
    public static final Key<String> KAFKA_PASSWORD = define("kafka.password", ValueType.SECRET, "",
            "Password of kafka.user. Give it through RPCTL_KAFKA_PASSWORD or ${env:NAME}, not in the file.");

    // --- Operations

    public static final Key<String> METRICS_ADDRESS = define("metrics.address", ADDRESS,
            "127.0.0.1:9464", "Where the daemon serves /metrics and /health (host:port); keep it private.",
            Keys::hostPort);
    public static final Key<LogFormat> LOG_FORMAT = define("log.format", ValueType.oneOf(LogFormat.class),
            LogFormat.TEXT, "Format of log lines on stderr: text, or json (one object per line).");

    private static final Map<String, Key<?>> BY_NAME = index();

    /** Every key, in declaration order. */
    public static List<Key<?>> all() {
        return List.copyOf(ALL);
    }

    public static Optional<Key<?>> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    /** The keys of cache side {@code "a"} or {@code "b"}. */
    public static SideKeys side(String name) {
        return switch (name == null ? "" : name) {
            case "a" -> SIDE_A;
            case "b" -> SIDE_B;
            default -> throw new IllegalArgumentException("unknown cache side \"" + name + "\", expected a or b");
        };
    }

    public static List<SideKeys> sides() {
        return List.of(SIDE_A, SIDE_B);
    }

    /** True for a path like {@code mysql} or {@code side-a} that has keys below it. */
    static boolean isSection(String path) {
        String prefix = path + ".";
        return ALL.stream().anyMatch(k -> k.name().startsWith(prefix));
    }

    /** Every section path, e.g. {@code mysql}, {@code side-a}. */
    static List<String> sections() {
        return ALL.stream().map(k -> k.name().substring(0, k.name().lastIndexOf('.'))).distinct().toList();
    }

    private static <T> Key<T> define(String name, ValueType<T> type, T defaultValue, String description) {
        return define(name, type, defaultValue, description, null);
    }

    private static <T> Key<T> define(String name, ValueType<T> type, T defaultValue, String description,
                                     Key.Check<? super T> check) {
        Key<T> key = new Key<>(name, type, defaultValue, description, check);
        ALL.add(key);
        return key;
    }

    private static SideKeys side(String side, String defaultNode) {
        String p = "side-" + side + ".";
        return new SideKeys(side,
                define(p + "mode", ValueType.oneOf(SideMode.class), SideMode.SINGLE,
                        "How the Redis of cache side " + side + " runs: a single server, a Redis Cluster,"
                                + " or a master watched by Sentinel."),
                define(p + "nodes", ValueType.HOST_PORT_LIST, List.of(HostPort.parse(defaultNode)),
                        "Redis of side " + side + ": the server (single), some cluster nodes (cluster) or the"
                                + " sentinels (sentinel). A YAML list, or host:port separated by commas."),
                define(p + "master-name", ValueType.STRING, "",
                        "Name the sentinels know the master of side " + side + " by; needed in sentinel mode."),
                define(p + "user", ValueType.STRING, "",
                        "Redis ACL user of side " + side + "; blank for the default user."),
                define(p + "password", ValueType.SECRET, "",
                        "Redis password of side " + side + "; blank for none. Give it through "
                                + "RPCTL_SIDE_" + side.toUpperCase(java.util.Locale.ROOT)
                                + "_PASSWORD or ${env:NAME}, not in the file."),
                define(p + "tls", ValueType.BOOLEAN, false, "Connect to the Redis of side " + side + " over TLS"
                        + " (every connection: pool, sentinels, direct write-through links)."),
                define(p + "tls-ca", PATH, "", "PEM file of the CA certificate(s) that signed the Redis servers'"
                        + " certificates of side " + side + "; blank trusts the JVM's own CA certificates."),
                define(p + "tls-verify", ValueType.oneOf(TlsVerify.class), TlsVerify.FULL,
                        "How much of the certificates of side " + side + " to check: full (signed by the CA and"
                                + " naming the host connected to), ca, or none (logged as a warning)."),
                define(p + "tls-cert", PATH, "", "PEM file of a client certificate for side " + side
                        + ", for servers with tls-auth-clients yes; blank for none."),
                define(p + "tls-key", PATH, "", "PEM file of the private key of side-" + side
                        + ".tls-cert (PKCS#8, unencrypted)."),
                define(p + "database", ValueType.integer(0, 15), 0,
                        "Redis database number of side " + side + "; must be 0 on a Redis Cluster."),
                define(p + "timeout", ValueType.DURATION, Duration.ofSeconds(2),
                        "Connect and command timeout for the Redis of side " + side + ".", Keys::positive),
                define(p + "pool-size", ValueType.integer(1, 4096), 64,
                        "Connections in the pool to each Redis node of side " + side + "."));
    }

    private static Map<String, Key<?>> index() {
        Map<String, Key<?>> map = new LinkedHashMap<>();
        for (Key<?> key : ALL) {
            if (map.put(key.name(), key) != null) {
                throw new IllegalStateException("key declared twice: " + key.name());
            }
        }
        return map;
    }

    // --- checks

    private static String notBlank(String v) {
        return v.isBlank() ? "must not be blank" : null;
    }

    private static String positive(Duration d) {
        return d.isZero() || d.isNegative() ? "expected a duration greater than 0, got " + Durations.render(d) : null;
    }

    private static String topQuery(String sql) {
        long marks = sql.chars().filter(c -> c == '?').count();
        if (marks != 2 || !sql.trim().regionMatches(true, 0, "SELECT", 0, 6)) {
            return "expected a SELECT of user ids with two ? parameters (the activity id, then N), got \"" + sql + "\"";
        }
        return null;
    }

    /** The claim table's name with room for the names db init derives from it (_tombstone, _version_bi, ...). */
    private static String claimTable(String v) {
        String bad = sqlIdentifier(v);
        if (bad != null) {
            return bad;
        }
        return v.length() > 53 ? "expected at most 53 characters (db init adds _tombstone and _version_xx to it), got "
                + v.length() : null;
    }

    private static String sqlIdentifier(String v) {
        return SQL_IDENTIFIER.matcher(v).matches() ? null
                : "expected an SQL identifier (letters, digits and _, not starting with a digit, at most 64),"
                        + " got \"" + v + "\"";
    }

    /** The SASL mechanisms rpctl can log in with, as Kafka names them. */
    public static final List<String> SASL_MECHANISMS = List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");

    private static String saslMechanism(String v) {
        return v.isBlank() || SASL_MECHANISMS.contains(v.trim().toUpperCase(java.util.Locale.ROOT)) ? null
                : "expected PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or blank, got \"" + v + "\"";
    }

    private static String blankOrKafkaName(String v) {
        return v.isEmpty() ? null : kafkaName(v);
    }

    private static String kafkaName(String v) {
        // Kafka takes neither "." nor ".." as a topic name
        return KAFKA_NAME.matcher(v).matches() && !v.equals(".") && !v.equals("..") ? null
                : "expected a Kafka name (letters, digits, '.', '_' and '-'), got \"" + v + "\"";
    }

    private static String hostPort(String v) {
        try {
            HostPort.parse(v);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private static String hostPorts(String v) {
        try {
            ValueType.HOST_PORT_LIST.parse(v);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private static String keyTemplate(String v) {
        if (v.indexOf('{') >= 0 || v.indexOf('}') >= 0) {
            return "must not contain '{' or '}': on a Redis Cluster they form a hash tag, which would pile"
                    + " every key of an activity onto one slot, got \"" + v + "\"";
        }
        boolean activity = v.contains("<activity>");
        boolean user = v.contains("<user>");
        if (!activity || !user) {
            String missing = !activity && !user ? "<activity> and <user>" : !activity ? "<activity>" : "<user>";
            return "must contain " + missing + " (a key names one claim of one user in one activity), got \""
                    + v + "\"";
        }
        // activity 1 and user 23 must not make the key of activity 12 and user 3
        String[] parts = v.split("(?=<activity>|<user>)|(?<=<activity>|<user>)", -1);
        for (int i = 1; i < parts.length - 1; i++) {
            boolean between = parts[i - 1].startsWith("<") && parts[i - 1].endsWith(">")
                    && parts[i + 1].startsWith("<") && parts[i + 1].endsWith(">");
            if (between && parts[i].chars().allMatch(Character::isDigit)) {
                return "must separate <activity> and <user> by a character that is not a digit (\":\" in"
                        + " rp:claim:<activity>:<user>), or two claims share a key, got \"" + v + "\"";
            }
        }
        if (v.contains("<activity><user>") || v.contains("<user><activity>")) {
            return "must separate <activity> and <user> by a character that is not a digit (\":\" in"
                    + " rp:claim:<activity>:<user>), or two claims share a key, got \"" + v + "\"";
        }
        return null;
    }
}
