package dev.rpctl.config;

import java.time.Duration;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** The effective configuration: one value per key, and where each came from. Immutable. */
public final class Config {

    /** One row of {@code config show}: secrets masked, {@code where} is file:line, variable or flag. */
    public record Setting(String key, String value, Origin origin, String where, String description) {
    }

    /** A value and where it was set: {@code file:line}, {@code RPCTL_X}, {@code --x}, or empty for a default. */
    record Resolved(Object value, Origin origin, String where) {
    }

    private static final Config DEFAULTS = new Config(defaultValues(), null);

    private final Map<Key<?>, Resolved> values;
    private final Path file;

    Config(Map<Key<?>, Resolved> values, Path file) {
        for (Key<?> key : Keys.all()) {
            if (!values.containsKey(key)) {
                throw new IllegalArgumentException("no value for " + key.name());
            }
        }
        this.values = Map.copyOf(values);
        this.file = file;
    }

    /** Defaults only: no environment, no file. */
    public static Config defaults() {
        return DEFAULTS;
    }

    static Map<Key<?>, Resolved> defaultValues() {
        Map<Key<?>, Resolved> map = new LinkedHashMap<>();
        for (Key<?> key : Keys.all()) {
            map.put(key, new Resolved(key.defaultValue(), Origin.DEFAULT, ""));
        }
        return map;
    }

    @SuppressWarnings("unchecked")
    public <T> T get(Key<T> key) {
        return (T) resolved(key).value();
    }

    public Origin origin(Key<?> key) {
        return resolved(key).origin();
    }

    /** Where the value of a key was set: {@code file:line}, {@code RPCTL_X}, {@code --x}; empty for a default. */
    public String where(Key<?> key) {
        return resolved(key).where();
    }

    /**
     * Where the value of a key was set, as a configuration problem names it: {@code FILE:LINE},
     * {@code env RPCTL_X} or {@code flag --x} (the option the user typed); null for a default.
     */
    public String setBy(Key<?> key) {
        Resolved r = resolved(key);
        return switch (r.origin()) {
            case FILE -> r.where();
            case ENV -> "env " + r.where();
            case FLAG -> "flag " + r.where();
            case DEFAULT -> null;
        };
    }

    /** The file that was read, if any. */
    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    /** Every key in declaration order, secrets masked. */
    public List<Setting> describe() {
        List<Setting> out = new ArrayList<>();
        for (Key<?> key : Keys.all()) {
            Resolved r = resolved(key);
            out.add(new Setting(key.name(), render(key), r.origin(), r.where(), key.description()));
        }
        return List.copyOf(out);
    }

    public MysqlSettings mysql() {
        return new MysqlSettings(get(Keys.MYSQL_HOST), get(Keys.MYSQL_PORT), get(Keys.MYSQL_DATABASE),
                get(Keys.MYSQL_USER), get(Keys.MYSQL_PASSWORD), get(Keys.MYSQL_POOL_SIZE),
                get(Keys.MYSQL_CONNECT_TIMEOUT), mysqlTls());
    }

    private TlsSettings mysqlTls() {
        return new TlsSettings(get(Keys.MYSQL_TLS), get(Keys.MYSQL_TLS_CA), get(Keys.MYSQL_TLS_VERIFY),
                get(Keys.MYSQL_TLS_CERT), get(Keys.MYSQL_TLS_KEY), "mysql");
    }

    /** The read replica; empty when {@code replica.host} is blank. Unset user and password come from the primary. */
    public Optional<MysqlSettings> replica() {
        String host = get(Keys.REPLICA_HOST);
        if (host.isBlank()) {
            return Optional.empty();
        }
        MysqlSettings primary = mysql();
        String user = get(Keys.REPLICA_USER);
        String password = get(Keys.REPLICA_PASSWORD);
        return Optional.of(new MysqlSettings(host, get(Keys.REPLICA_PORT), primary.database(),
                user.isBlank() ? primary.user() : user, password.isEmpty() ? primary.password() : password,
                primary.poolSize(), primary.connectTimeout(), primary.tls()));
    }

    /** Cache side {@code "a"} or {@code "b"}. */
    public SideSettings side(String name) {
        Keys.SideKeys k = Keys.side(name);
        return new SideSettings(k.side(), get(k.mode()), get(k.nodes()), get(k.masterName()), get(k.user()),
                get(k.password()), new TlsSettings(get(k.tls()), get(k.tlsCa()), get(k.tlsVerify()), get(k.tlsCert()),
                get(k.tlsKey()), "side-" + k.side()), get(k.database()), get(k.timeout()), get(k.poolSize()));
    }

    public List<String> sideNames() {
        return Keys.sides().stream().map(Keys.SideKeys::side).toList();
    }

    public MappingSettings mapping() {
        return new MappingSettings(get(Keys.MAPPING_ACTIVITY_TABLE), get(Keys.MAPPING_CLAIM_TABLE),
                get(Keys.MAPPING_CHECKPOINT_TABLE), get(Keys.MAPPING_HEARTBEAT_TABLE),
                get(Keys.MAPPING_KEY_TEMPLATE), get(Keys.MAPPING_VERSION_COLUMN), get(Keys.MAPPING_ENTRY_TTL),
                get(Keys.MAPPING_PLACEHOLDER_TTL), get(Keys.MAPPING_TOMBSTONE_TTL), get(Keys.MAPPING_LEASE_TTL));
    }

    public double bloomFalsePositiveRate() {
        return get(Keys.BLOOM_FALSE_POSITIVE_RATE);
    }

    public Duration bloomTtl() {
        return get(Keys.BLOOM_TTL);
    }

    /** The query of 'warm --top N', with mapping.claim-table filled in. */
    public String warmTopQuery() {
        return get(Keys.WARM_TOP_QUERY).replace("<claim-table>", get(Keys.MAPPING_CLAIM_TABLE));
    }

    public SyncSettings sync() {
        return new SyncSettings(get(Keys.SYNC_LANES), get(Keys.SYNC_QUEUE_CAPACITY), get(Keys.SYNC_BATCH_SIZE),
                get(Keys.SYNC_CHECKPOINT_INTERVAL), get(Keys.SYNC_HEARTBEAT_INTERVAL),
                get(Keys.SYNC_SERVER_ID_BASE), get(Keys.SYNC_KEEPALIVE_INTERVAL), get(Keys.SYNC_ON_BAD_DATA),
                get(Keys.SYNC_UNHEALTHY_LAG), get(Keys.SYNC_MAX_EVENT_BYTES));
    }

    public ClaimSettings claim() {
        return new ClaimSettings(get(Keys.CLAIM_WRITE_THROUGH_RETRIES), get(Keys.CLAIM_WRITE_THROUGH_TIMEOUT),
                get(Keys.CLAIM_BUDGET_SHARDS), get(Keys.CLAIM_COMMITTERS), get(Keys.CLAIM_MAX_GROUP),
                get(Keys.CLAIM_READ_FALLBACK_CONCURRENCY));
    }

    public KafkaSettings kafka() {
        return new KafkaSettings(get(Keys.KAFKA_BOOTSTRAP), get(Keys.KAFKA_TOPIC), get(Keys.KAFKA_GROUP_PREFIX),
                get(Keys.KAFKA_PARTITIONS), get(Keys.KAFKA_DEAD_LETTER_TOPIC),
                new TlsSettings(get(Keys.KAFKA_TLS), get(Keys.KAFKA_TLS_CA), get(Keys.KAFKA_TLS_VERIFY),
                        get(Keys.KAFKA_TLS_CERT), get(Keys.KAFKA_TLS_KEY), "kafka"),
                get(Keys.KAFKA_SASL_MECHANISM), get(Keys.KAFKA_USER), get(Keys.KAFKA_PASSWORD),
                get(Keys.SYNC_MAX_EVENT_BYTES));
    }

    public String metricsAddress() {
        return get(Keys.METRICS_ADDRESS);
    }

    public LogFormat logFormat() {
        return get(Keys.LOG_FORMAT);
    }

    @Override
    public String toString() {
        return "Config" + describe().stream().map(s -> s.key() + "=" + s.value())
                .collect(Collectors.joining(", ", "[", "]"));
    }

    private Resolved resolved(Key<?> key) {
        Resolved r = values.get(key);
        if (r == null) {
            throw new IllegalArgumentException("not a key of Keys: " + key);
        }
        return r;
    }

    private <T> String render(Key<T> key) {
        return key.render(get(key));
    }
}
