package dev.rpctl.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeysTest {

    @Test
    void one_name_maps_to_the_yaml_path_the_variable_and_the_flag() {
        assertEquals("mysql.pool-size", Keys.MYSQL_POOL_SIZE.name());
        assertEquals("RPCTL_MYSQL_POOL_SIZE", Keys.MYSQL_POOL_SIZE.env());
        assertEquals("--mysql-pool-size", Keys.MYSQL_POOL_SIZE.flag());
        assertEquals("RPCTL_SIDE_B_MASTER_NAME", Keys.SIDE_B_MASTER_NAME.env());
    }

    @Test
    void names_are_kebab_case_dotted_paths_and_declared_once() {
        Set<String> names = new HashSet<>();
        Set<String> envs = new HashSet<>();
        for (Key<?> key : Keys.all()) {
            assertTrue(key.name().matches("[a-z]+(-[a-z]+)*(\\.[a-z]+(-[a-z]+)*)+"), key.name());
            assertTrue(names.add(key.name()), key.name());
            assertTrue(envs.add(key.env()), key.env());
            assertFalse(key.description().isBlank(), key.name());
            assertSame(key, Keys.byName(key.name()).orElseThrow());
        }
        assertEquals(86, Keys.all().size());
        assertTrue(Keys.byName("mysql.nope").isEmpty());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    @Test
    void every_default_passes_its_own_checks_and_survives_a_round_trip() {
        for (Key key : Keys.all()) {
            if (key.secret()) {
                assertEquals("", key.defaultValue(), key.name());
                continue;
            }
            assertEquals(key.defaultValue(), key.parse(key.render(key.defaultValue())), key.name());
        }
    }

    @Test
    void type_names_say_what_a_value_looks_like() {
        assertEquals("string", Keys.MYSQL_HOST.typeName());
        assertEquals("integer 1-65535", Keys.MYSQL_PORT.typeName());
        assertEquals("duration", Keys.MYSQL_CONNECT_TIMEOUT.typeName());
        assertEquals("one of single|cluster|sentinel", Keys.SIDE_A_MODE.typeName());
        assertEquals("list of host:port", Keys.SIDE_A_NODES.typeName());
        assertEquals("boolean", Keys.MYSQL_TLS.typeName());
        assertEquals("secret", Keys.MYSQL_PASSWORD.typeName());
        assertEquals("integer at least 16", Keys.SYNC_QUEUE_CAPACITY.typeName());
        assertEquals("one of fail|warn|skip", Keys.SYNC_ON_BAD_DATA.typeName());
    }

    @Test
    void exactly_the_passwords_are_secret() {
        List<String> secrets = Keys.all().stream().filter(Key::secret).map(Key::name).toList();
        assertEquals(List.of("mysql.password", "replica.password", "side-a.password", "side-b.password", "kafka.password"),
                secrets);
    }

    @Test
    void durations_parse_in_four_units_and_render_in_the_shortest_exact_one() {
        Key<Duration> key = Keys.SYNC_CHECKPOINT_INTERVAL;
        assertEquals(Duration.ofMillis(250), key.parse("250ms"));
        assertEquals(Duration.ofSeconds(5), key.parse("5s"));
        assertEquals(Duration.ofMinutes(2), key.parse("2m"));
        assertEquals(Duration.ofHours(24), key.parse("24h"));
        assertEquals("1m", key.render(key.parse("60s")));
        assertEquals("90s", key.render(key.parse("90s")));
        assertEquals("1500ms", key.render(key.parse("1500ms")));
        assertEquals("24h", key.render(key.parse("1440m")));
    }

    @Test
    void a_bad_value_is_refused_with_a_message_saying_what_was_expected() {
        assertEquals("expected a duration like 250ms, 5s, 2m, got \"abc\"",
                assertThrows(IllegalArgumentException.class, () -> Keys.MYSQL_CONNECT_TIMEOUT.parse("abc")).getMessage());
        assertEquals("expected a duration greater than 0, got 0s",
                assertThrows(IllegalArgumentException.class, () -> Keys.MAPPING_LEASE_TTL.parse("0ms")).getMessage());
        assertEquals("expected an integer 1-65535, got \"abc\"",
                assertThrows(IllegalArgumentException.class, () -> Keys.MYSQL_PORT.parse("abc")).getMessage());
        assertEquals("expected an integer 1-65535, got 70000",
                assertThrows(IllegalArgumentException.class, () -> Keys.MYSQL_PORT.parse("70000")).getMessage());
        assertEquals("expected one of single|cluster|sentinel, got \"replica\"",
                assertThrows(IllegalArgumentException.class, () -> Keys.SIDE_A_MODE.parse("replica")).getMessage());
        assertEquals("expected true or false, got \"yes\"",
                assertThrows(IllegalArgumentException.class, () -> Keys.MYSQL_TLS.parse("yes")).getMessage());
        assertEquals("must not be blank",
                assertThrows(IllegalArgumentException.class, () -> Keys.MYSQL_HOST.parse(" ")).getMessage());
    }

    @Test
    void enums_and_booleans_are_read_without_regard_to_case() {
        assertEquals(SideMode.SENTINEL, Keys.SIDE_A_MODE.parse("Sentinel"));
        assertEquals(BadDataPolicy.WARN, Keys.SYNC_ON_BAD_DATA.parse("WARN"));
        assertEquals(true, Keys.MYSQL_TLS.parse("TRUE"));
        assertEquals("sentinel", Keys.SIDE_A_MODE.render(SideMode.SENTINEL));
    }

    @Test
    void server_id_base_goes_past_the_int_range() {
        assertEquals(4_294_967_000L, Keys.SYNC_SERVER_ID_BASE.parse("4294967000"));
        assertThrows(IllegalArgumentException.class, () -> Keys.SYNC_SERVER_ID_BASE.parse("4294967001"));
        assertThrows(IllegalArgumentException.class, () -> Keys.SYNC_SERVER_ID_BASE.parse("0"));
    }

    @Test
    void nodes_are_read_from_a_comma_separated_list() {
        assertEquals(List.of(new HostPort("10.0.0.1", 7000), new HostPort("10.0.0.2", 7001)),
                Keys.SIDE_A_NODES.parse("10.0.0.1:7000, 10.0.0.2:7001"));
        assertEquals("10.0.0.1:7000,10.0.0.2:7001",
                Keys.SIDE_A_NODES.render(Keys.SIDE_A_NODES.parse("10.0.0.1:7000,10.0.0.2:7001")));
        assertEquals("expected host:port like 127.0.0.1:6379, got \"redis\"",
                assertThrows(IllegalArgumentException.class, () -> Keys.SIDE_A_NODES.parse("redis")).getMessage());
    }

    @Test
    void host_port_reads_names_ipv4_and_bracketed_ipv6() {
        assertEquals(new HostPort("redis-a.internal", 6379), HostPort.parse("redis-a.internal:6379"));
        assertEquals(new HostPort("::1", 6379), HostPort.parse("[::1]:6379"));
        assertEquals("[::1]:6379", HostPort.parse("[::1]:6379").toString());
        assertEquals("127.0.0.1:6379", HostPort.parse(" 127.0.0.1:6379 ").toString());
        assertThrows(IllegalArgumentException.class, () -> HostPort.parse("::1:6379"));
        assertThrows(IllegalArgumentException.class, () -> HostPort.parse(":6379"));
        assertThrows(IllegalArgumentException.class, () -> HostPort.parse("host:"));
        assertEquals("expected host:port with a port 1-65535, got \"host:0\"",
                assertThrows(IllegalArgumentException.class, () -> HostPort.parse("host:0")).getMessage());
    }

    @Test
    void key_template_must_name_both_ids_and_avoid_hash_tags() {
        assertEquals("must contain <user> (a key names one claim of one user in one activity),"
                        + " got \"rp:claim:<activity>\"",
                assertThrows(IllegalArgumentException.class,
                        () -> Keys.MAPPING_KEY_TEMPLATE.parse("rp:claim:<activity>")).getMessage());
        String braces = assertThrows(IllegalArgumentException.class,
                () -> Keys.MAPPING_KEY_TEMPLATE.parse("rp:{<activity>}:<user>")).getMessage();
        assertTrue(braces.contains("hash tag"), braces);
        assertTrue(braces.contains("one slot"), braces);
        assertEquals("c:<user>:<activity>", Keys.MAPPING_KEY_TEMPLATE.parse("c:<user>:<activity>"));
    }

    @Test
    void a_key_template_must_separate_activity_and_user_by_a_character_that_is_not_a_digit() {
        // activity 1 and user 23 would share the key of activity 12 and user 3
        for (String bad : new String[] {"rp:<activity><user>", "rp:<user><activity>:x", "rp:<activity>0<user>", "<activity>12<user>"}) {
            String message = assertThrows(IllegalArgumentException.class, () -> Keys.MAPPING_KEY_TEMPLATE.parse(bad), bad).getMessage();
            assertTrue(message.contains("separate <activity> and <user>"), message);
        }
        assertEquals("rp<activity>-<user>", Keys.MAPPING_KEY_TEMPLATE.parse("rp<activity>-<user>"));
        assertEquals("1<activity>x2<user>9", Keys.MAPPING_KEY_TEMPLATE.parse("1<activity>x2<user>9"));
    }

    @Test
    void table_names_must_be_sql_identifiers() {
        assertEquals("rp_claim_2", Keys.MAPPING_CLAIM_TABLE.parse("rp_claim_2"));
        assertThrows(IllegalArgumentException.class, () -> Keys.MAPPING_CLAIM_TABLE.parse("rp-claim"));
        assertThrows(IllegalArgumentException.class, () -> Keys.MAPPING_CLAIM_TABLE.parse("2claims"));
        assertThrows(IllegalArgumentException.class, () -> Keys.MAPPING_CLAIM_TABLE.parse("x".repeat(65)));
        assertEquals("SQL identifier", Keys.MAPPING_CLAIM_TABLE.typeName());
    }

    @Test
    void a_secret_renders_masked() {
        assertEquals("****", Keys.MYSQL_PASSWORD.render("hunter2"));
        assertEquals("", Keys.MYSQL_PASSWORD.render(""));
    }

    @Test
    void side_keys_are_found_by_side_name() {
        assertSame(Keys.SIDE_A_NODES, Keys.side("a").nodes());
        assertSame(Keys.SIDE_B_MODE, Keys.side("b").mode());
        assertThrows(IllegalArgumentException.class, () -> Keys.side("c"));
        assertEquals(List.of(HostPort.parse("127.0.0.1:6380")), Keys.SIDE_B_NODES.defaultValue());
    }
}
