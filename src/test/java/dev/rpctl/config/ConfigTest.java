package dev.rpctl.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {

    @TempDir
    Path dir;

    private Config load(Map<String, String> env, String... lines) throws IOException {
        Path file = Files.writeString(dir.resolve("rpctl.yaml"), String.join("\n", lines) + "\n");
        return new ConfigLoader(env, dir, dir.resolve("etc.yaml")).load(file, Map.of());
    }

    @Test
    void the_defaults_build_the_typed_views() {
        Config config = Config.defaults();
        assertEquals(new MysqlSettings("127.0.0.1", 3306, "rpctl", "rpctl", "", 16, Duration.ofSeconds(3), false),
                config.mysql());
        assertEquals("127.0.0.1:3306", config.mysql().address());
        assertTrue(config.replica().isEmpty());
        assertEquals(List.of("a", "b"), config.sideNames());
        assertEquals(new SideSettings("b", SideMode.SINGLE, List.of(new HostPort("127.0.0.1", 6380)), "", "", "",
                false, 0, Duration.ofSeconds(2), 64), config.side("b"));
        assertEquals(new MappingSettings("rp_activity", "rp_claim", "rpctl_checkpoint", "rpctl_heartbeat",
                "rp:claim:<activity>:<user>", "version", Duration.ofHours(24), Duration.ofSeconds(30),
                Duration.ofSeconds(60), Duration.ofSeconds(2)), config.mapping());
        assertEquals(new SyncSettings(2, 10_000, 256, Duration.ofMillis(250), Duration.ofMillis(100), 4200,
                Duration.ofSeconds(5), BadDataPolicy.FAIL, Duration.ofSeconds(30), 16 << 20), config.sync());
        assertEquals(new ClaimSettings(3, Duration.ofMillis(200), 32, 2, 128, 8), config.claim());
        assertEquals(new KafkaSettings("127.0.0.1:9092", "rpctl.claims", "rpctl-apply", 12, ""), config.kafka());
        assertEquals("127.0.0.1:9464", config.metricsAddress());
        assertEquals(LogFormat.TEXT, config.logFormat());
        assertTrue(config.file().isEmpty());
    }

    @Test
    void only_sides_a_and_b_exist() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Config.defaults().side("c"));
        assertEquals("unknown cache side \"c\", expected a or b", e.getMessage());
    }

    @Test
    void the_replica_borrows_user_and_password_from_the_primary_when_left_blank() throws IOException {
        Config config = load(Map.of("RPCTL_MYSQL_PASSWORD", "primary-secret"),
                "mysql:",
                "  database: claims",
                "replica:",
                "  host: replica.internal",
                "  port: 3307");
        MysqlSettings replica = config.replica().orElseThrow();
        assertEquals("replica.internal:3307", replica.address());
        assertEquals("claims", replica.database());
        assertEquals("rpctl", replica.user());
        assertEquals("primary-secret", replica.password());

        Config own = load(Map.of("RPCTL_REPLICA_PASSWORD", "replica-secret"),
                "replica:", "  host: replica.internal", "  user: reader");
        assertEquals("reader", own.replica().orElseThrow().user());
        assertEquals("replica-secret", own.replica().orElseThrow().password());
    }

    @Test
    void a_claim_key_fills_both_ids_into_the_template() throws IOException {
        assertEquals("rp:claim:42:1000007", Config.defaults().mapping().claimKey(42, 1_000_007));
        Config custom = load(Map.of(), "mapping:", "  key-template: c:<user>:a<activity>");
        assertEquals("c:9:a7", custom.mapping().claimKey(7, 9));
    }

    @Test
    void describe_lists_every_key_in_order_with_where_it_was_set() throws IOException {
        Config config = load(Map.of("RPCTL_SYNC_LANES", "4"),
                "mysql:",
                "  port: 13306");
        List<Config.Setting> settings = config.describe();
        assertEquals(Keys.all().stream().map(Key::name).toList(),
                settings.stream().map(Config.Setting::key).toList());
        Config.Setting port = settings.get(1);
        assertEquals(new Config.Setting("mysql.port", "13306", Origin.FILE, dir.resolve("rpctl.yaml") + ":2",
                Keys.MYSQL_PORT.description()), port);
        Config.Setting lanes = settings.stream().filter(s -> s.key().equals("sync.lanes")).findFirst().orElseThrow();
        assertEquals("4", lanes.value());
        assertEquals(Origin.ENV, lanes.origin());
        assertEquals("RPCTL_SYNC_LANES", lanes.where());
        Config.Setting nodes = settings.stream().filter(s -> s.key().equals("side-a.nodes")).findFirst()
                .orElseThrow();
        assertEquals("127.0.0.1:6379", nodes.value());
        assertEquals(Origin.DEFAULT, nodes.origin());
        assertEquals("", nodes.where());
    }

    @Test
    void secrets_are_masked_in_describe_and_in_every_to_string() throws IOException {
        Config config = load(Map.of("DB_PASS", "hunter2", "RPCTL_SIDE_A_PASSWORD", "redis-a-pw"),
                "mysql:",
                "  password: ${env:DB_PASS}",
                "replica:",
                "  host: r1",
                "side-b:",
                "  password: redis-b-pw");
        assertEquals("hunter2", config.mysql().password());
        Map<String, String> shown = config.describe().stream()
                .collect(java.util.stream.Collectors.toMap(Config.Setting::key, Config.Setting::value));
        assertEquals("****", shown.get("mysql.password"));
        assertEquals("****", shown.get("side-a.password"));
        assertEquals("****", shown.get("side-b.password"));
        assertEquals("", shown.get("replica.password"));

        List<String> texts = List.of(config.toString(), config.describe().toString(), config.mysql().toString(),
                config.replica().orElseThrow().toString(), config.side("a").toString(), config.side("b").toString());
        for (String text : texts) {
            for (String secret : List.of("hunter2", "redis-a-pw", "redis-b-pw")) {
                assertFalse(text.contains(secret), text);
            }
        }
        assertTrue(config.mysql().toString().contains("password=****"), config.mysql().toString());
        assertTrue(config.side("a").toString().contains("password=****"), config.side("a").toString());
    }

    @Test
    void the_typed_views_follow_the_loaded_values() throws IOException {
        Config config = load(Map.of(),
                "side-a:",
                "  mode: cluster",
                "  nodes: [c1:7000, c2:7000, c3:7000]",
                "  tls: true",
                "side-b:",
                "  mode: sentinel",
                "  master-name: cache-b",
                "  nodes: s1:26379,s2:26379",
                "sync:",
                "  server-id-base: 4000000000",
                "  on-bad-data: skip",
                "log:",
                "  format: json");
        SideSettings a = config.side("a");
        assertEquals(SideMode.CLUSTER, a.mode());
        assertEquals(3, a.nodes().size());
        assertTrue(a.tls().on());
        assertEquals("cache-b", config.side("b").masterName());
        assertEquals(4_000_000_000L, config.sync().serverIdBase());
        assertEquals(BadDataPolicy.SKIP, config.sync().onBadData());
        assertEquals(LogFormat.JSON, config.logFormat());
    }
}
