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
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    /** Writes a file whose line N is {@code lines[N-1]}. */
    private Path file(String... lines) throws IOException {
        return write("rpctl-test.yaml", lines);
    }

    private Path write(String name, String... lines) throws IOException {
        Path path = dir.resolve(name);
        Files.createDirectories(path.getParent());
        Files.writeString(path, String.join("\n", lines) + "\n");
        return path;
    }

    private ConfigLoader loader(Map<String, String> env) {
        return new ConfigLoader(env, dir, dir.resolve("etc/rpctl/config.yaml"));
    }

    private Config load(Path file) {
        return loader(Map.of()).load(file, Map.of());
    }

    private List<String> problems(Map<String, String> env, Path file, Map<String, String> flags) {
        return assertThrows(ConfigException.class, () -> loader(env).load(file, flags)).problems();
    }

    private List<String> problems(Path file) {
        return problems(Map.of(), file, Map.of());
    }

    // --- precedence and origin

    @Test
    void defaults_apply_when_there_is_no_file_no_variable_and_no_flag() {
        Config config = loader(Map.of()).load(null, Map.of());
        for (Key<?> key : Keys.all()) {
            assertEquals(key.defaultValue(), config.get(key), key.name());
            assertEquals(Origin.DEFAULT, config.origin(key), key.name());
        }
        assertTrue(config.file().isEmpty());
    }

    @Test
    void a_file_value_overrides_the_default_and_records_its_line() throws IOException {
        Path f = file(
                "mysql:",
                "  host: db.internal",
                "  port: 13306");
        Config config = load(f);
        assertEquals(13306, config.get(Keys.MYSQL_PORT));
        assertEquals("db.internal", config.mysql().host());
        assertEquals(Origin.FILE, config.origin(Keys.MYSQL_PORT));
        assertEquals(f + ":3", config.where(Keys.MYSQL_PORT));
        assertEquals(Origin.DEFAULT, config.origin(Keys.MYSQL_USER));
        assertEquals(Optional.of(f), config.file());
    }

    @Test
    void the_environment_overrides_the_file() throws IOException {
        Path f = file("mysql:", "  port: 13306");
        Config config = loader(Map.of("RPCTL_MYSQL_PORT", "23306")).load(f, Map.of());
        assertEquals(23306, config.get(Keys.MYSQL_PORT));
        assertEquals(Origin.ENV, config.origin(Keys.MYSQL_PORT));
        assertEquals("RPCTL_MYSQL_PORT", config.where(Keys.MYSQL_PORT));
    }

    @Test
    void a_flag_overrides_the_environment() throws IOException {
        Path f = file("mysql:", "  port: 13306");
        Config config = loader(Map.of("RPCTL_MYSQL_PORT", "23306")).load(f, Map.of("mysql.port", "33306"));
        assertEquals(33306, config.get(Keys.MYSQL_PORT));
        assertEquals(Origin.FLAG, config.origin(Keys.MYSQL_PORT));
        assertEquals("--mysql-port", config.where(Keys.MYSQL_PORT));
    }

    @Test
    void the_environment_wins_over_a_file_value_whose_env_reference_is_unset() throws IOException {
        Path f = file("mysql:", "  password: ${env:DB_PASSWORD}");
        Config config = loader(Map.of("RPCTL_MYSQL_PASSWORD", "s3cret")).load(f, Map.of());
        assertEquals("s3cret", config.mysql().password());
        assertEquals(Origin.ENV, config.origin(Keys.MYSQL_PASSWORD));
    }

    @Test
    void a_flag_wins_over_a_file_value_whose_env_reference_is_unset() throws IOException {
        Path f = file("mysql:", "  port: ${env:DB_PORT}");
        Config config = loader(Map.of()).load(f, Map.of("mysql.port", "23306"));
        assertEquals(23306, config.get(Keys.MYSQL_PORT));
        // a key nothing overrides still needs its variable
        assertEquals(List.of(f + ":2: mysql.port: environment variable DB_PORT is not set"), problems(Map.of(), f, Map.of()));
    }

    @Test
    void each_key_reports_the_layer_it_came_from() throws IOException {
        Path f = file(
                "mysql:",
                "  host: file-host",
                "  port: 13306",
                "  database: filedb");
        Config config = loader(Map.of("RPCTL_MYSQL_PORT", "23306", "RPCTL_MYSQL_DATABASE", "envdb"))
                .load(f, Map.of("mysql.database", "flagdb"));
        assertEquals(Origin.FILE, config.origin(Keys.MYSQL_HOST));
        assertEquals(Origin.ENV, config.origin(Keys.MYSQL_PORT));
        assertEquals(Origin.FLAG, config.origin(Keys.MYSQL_DATABASE));
        assertEquals(Origin.DEFAULT, config.origin(Keys.MYSQL_USER));
        assertEquals("file-host:23306", config.mysql().address());
        assertEquals("flagdb", config.mysql().database());
    }

    @Test
    void nodes_come_as_a_yaml_list_a_yaml_string_or_a_comma_separated_variable() throws IOException {
        Path f = file(
                "side-a:",
                "  nodes:",
                "    - 10.0.0.1:7000",
                "    - 10.0.0.2:7000",
                "side-b:",
                "  nodes: 10.0.1.1:6379, 10.0.1.2:6379");
        Config config = load(f);
        assertEquals(List.of(HostPort.parse("10.0.0.1:7000"), HostPort.parse("10.0.0.2:7000")),
                config.side("a").nodes());
        assertEquals(List.of(HostPort.parse("10.0.1.1:6379"), HostPort.parse("10.0.1.2:6379")),
                config.side("b").nodes());
        assertEquals(f + ":2", config.where(Keys.SIDE_A_NODES));

        Config fromEnv = loader(Map.of("RPCTL_SIDE_A_NODES", "h1:1,h2:2")).load(null, Map.of());
        assertEquals(List.of(new HostPort("h1", 1), new HostPort("h2", 2)), fromEnv.side("a").nodes());
    }

    @Test
    void dotted_keys_and_nested_mappings_mean_the_same() throws IOException {
        Path f = file(
                "mysql.port: 13306",
                "sync:",
                "  lanes: 16");
        Config config = load(f);
        assertEquals(13306, config.mysql().port());
        assertEquals(16, config.sync().lanes());
    }

    @Test
    void an_empty_file_or_one_of_comments_only_gives_the_defaults() throws IOException {
        assertEquals(Origin.DEFAULT, load(write("empty.yaml")).origin(Keys.MYSQL_PORT));
        assertEquals(Origin.DEFAULT, load(write("comments.yaml", "# nothing yet", "")).origin(Keys.MYSQL_PORT));
        assertEquals(Origin.DEFAULT, load(write("section.yaml", "mysql:")).origin(Keys.MYSQL_PORT));
    }

    @Test
    void quoted_and_null_values_are_read_as_text() throws IOException {
        Path f = file(
                "mysql:",
                "  port: \"13306\"",
                "  user: \"on\"",
                "replica:",
                "  host:");
        Config config = load(f);
        assertEquals(13306, config.mysql().port());
        assertEquals("on", config.mysql().user());
        assertTrue(config.replica().isEmpty());
    }

    // --- ${env:NAME}

    @Test
    void an_env_reference_in_a_file_value_is_replaced_from_the_environment() throws IOException {
        Path f = file(
                "mysql:",
                "  password: ${env:DB_PASS}",
                "  host: db-${env:DC}.internal");
        Config config = loader(Map.of("DB_PASS", "s3cret", "DC", "east")).load(f, Map.of());
        assertEquals("s3cret", config.mysql().password());
        assertEquals("db-east.internal", config.mysql().host());
        assertEquals(Origin.FILE, config.origin(Keys.MYSQL_PASSWORD));
    }

    @Test
    void a_missing_env_reference_is_reported_with_its_line() throws IOException {
        Path f = file(
                "mysql:",
                "  host: db",
                "  password: ${env:DB_PASS}");
        assertEquals(List.of(f + ":3: mysql.password: environment variable DB_PASS is not set"), problems(f));
    }

    // --- problems in the file, each with its line

    @Test
    void an_unknown_key_is_reported_with_its_line_and_a_suggestion() throws IOException {
        Path f = file(
                "mysql:",
                "  host: db",
                "  prot: 13306",
                "  pool_size: 8");
        assertEquals(List.of(
                f + ":3: mysql.prot: unknown key, did you mean mysql.port?",
                f + ":4: mysql.pool_size: unknown key, did you mean mysql.pool-size?"), problems(f));
    }

    @Test
    void an_unknown_section_is_reported_once_with_a_suggestion() throws IOException {
        Path f = file(
                "side-c:",
                "  mode: single",
                "  nodes: [a:1]",
                "frobnicate: 1");
        assertEquals(List.of(
                f + ":1: side-c: unknown key, did you mean side-a?",
                f + ":4: frobnicate: unknown key"), problems(f));
    }

    @Test
    void a_bad_integer_is_reported_with_its_line() throws IOException {
        Path f = file(
                "# primary",
                "mysql:",
                "  port: abc");
        assertEquals(List.of(f + ":3: mysql.port: expected an integer 1-65535, got \"abc\""), problems(f));
    }

    @Test
    void an_integer_out_of_range_is_reported_with_its_line() throws IOException {
        Path f = file(
                "sync:",
                "  lanes: 8",
                "  queue-capacity: 4",
                "side-a:",
                "  database: 16");
        assertEquals(List.of(
                f + ":3: sync.queue-capacity: expected an integer at least 16, got 4",
                f + ":5: side-a.database: expected an integer 0-15, got 16"), problems(f));
    }

    @Test
    void a_bad_duration_is_reported_with_its_line() throws IOException {
        Path f = file(
                "mapping:",
                "  entry-ttl: 1d",
                "  lease-ttl: 0s");
        assertEquals(List.of(
                f + ":2: mapping.entry-ttl: expected a duration like 250ms, 5s, 2m, got \"1d\"",
                f + ":3: mapping.lease-ttl: expected a duration greater than 0, got 0s"), problems(f));
    }

    @Test
    void a_bad_choice_is_reported_with_its_line() throws IOException {
        Path f = file(
                "sync:",
                "  on-bad-data: ignore",
                "log:",
                "  format: xml");
        assertEquals(List.of(
                f + ":2: sync.on-bad-data: expected one of fail|warn|skip, got \"ignore\"",
                f + ":4: log.format: expected one of text|json, got \"xml\""), problems(f));
    }

    @Test
    void a_bad_host_port_in_a_list_is_blamed_on_its_own_line() throws IOException {
        Path f = file(
                "side-a:",
                "  nodes:",
                "    - 10.0.0.1:7000",
                "    - 10.0.0.2",
                "    - 10.0.0.3:70000",
                "metrics:",
                "  address: localhost");
        assertEquals(List.of(
                f + ":4: side-a.nodes: expected host:port like 127.0.0.1:6379, got \"10.0.0.2\"",
                f + ":5: side-a.nodes: expected host:port with a port 1-65535, got \"10.0.0.3:70000\"",
                f + ":7: metrics.address: expected host:port like 127.0.0.1:6379, got \"localhost\""),
                problems(f));
    }

    @Test
    void an_empty_node_list_is_refused() throws IOException {
        Path f = file("side-b:", "  nodes: []");
        assertEquals(List.of(f + ":2: side-b.nodes: expected at least one host:port, got an empty list"),
                problems(f));
    }

    @Test
    void a_list_is_refused_where_the_key_takes_one_value() throws IOException {
        Path f = file(
                "mysql:",
                "  host:",
                "    - a",
                "    - b",
                "kafka:",
                "  bootstrap: [k1:9092, k2:9092]");
        assertEquals(List.of(
                f + ":2: mysql.host: expected a string, got a list (only side-a.nodes and side-b.nodes take a list)",
                f + ":6: kafka.bootstrap: expected a comma-separated host:port, got a list"
                        + " (only side-a.nodes and side-b.nodes take a list)"), problems(f));
    }

    @Test
    void a_topic_name_kafka_does_not_take_is_refused_with_its_line() throws IOException {
        Path f = file("kafka:", "  topic: '..'", "  dead-letter-topic: rpctl.dead letters");
        assertEquals(List.of(
                f + ":2: kafka.topic: expected a Kafka name (letters, digits, '.', '_' and '-'), got \"..\"",
                f + ":3: kafka.dead-letter-topic: expected a Kafka name (letters, digits, '.', '_' and '-'),"
                        + " got \"rpctl.dead letters\""), problems(f));
    }

    @Test
    void a_mapping_is_refused_where_a_value_is_expected() throws IOException {
        Path f = file(
                "mysql:",
                "  port:",
                "    number: 13306",
                "  tls: false",
                "side-a:",
                "  nodes:",
                "    - host: a",
                "      port: 1");
        assertEquals(List.of(
                f + ":2: mysql.port: expected an integer 1-65535, got a mapping",
                f + ":7: side-a.nodes: expected host:port in the list, got a mapping"), problems(f));
    }

    @Test
    void a_value_is_refused_where_a_section_is_expected() throws IOException {
        Path f = file("mysql: 127.0.0.1", "sync: [1, 2]");
        assertEquals(List.of(
                f + ":1: mysql: expected a mapping of keys like mysql.host, got a single value",
                f + ":2: sync: expected a mapping of keys like sync.lanes, got a list"), problems(f));
    }

    @Test
    void a_key_set_twice_is_reported_at_the_second_place() throws IOException {
        Path f = file(
                "mysql:",
                "  port: 13306",
                "mysql.port: 3306");
        assertEquals(List.of(f + ":3: mysql.port: set twice, first on line 2"), problems(f));
    }

    @Test
    void the_top_level_must_be_a_mapping() throws IOException {
        Path list = write("list.yaml", "- mysql", "- redis");
        assertEquals(List.of(list + ":1: the top level must be a mapping of keys like mysql: and side-a:,"
                + " got a list"), problems(list));
        Path scalar = write("scalar.yaml", "hello");
        assertEquals(List.of(scalar + ":1: the top level must be a mapping of keys like mysql: and side-a:,"
                + " got a single value"), problems(scalar));
    }

    @Test
    void a_syntax_error_is_one_problem_with_its_line() throws IOException {
        Path f = file(
                "mysql:",
                "  host: db",
                "  port: 13306",
                " user: rpctl",
                "sync:",
                "  lanes: 8");
        List<String> problems = problems(f);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith(f + ":4: syntax error: "), problems.get(0));
        assertFalse(problems.get(0).contains("\n"), problems.get(0));
    }

    @Test
    void an_unclosed_quote_is_blamed_on_the_line_where_it_opens() throws IOException {
        Path f = file(
                "mysql:",
                "  host: 'db",
                "  port: 13306");
        List<String> problems = problems(f);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith(f + ":2: syntax error: "), problems.get(0));
    }

    @Test
    void problems_before_a_syntax_error_are_still_reported() throws IOException {
        Path f = file(
                "mysql:",
                "  port: abc",
                "  host: db: x",
                "  user: rpctl");
        List<String> problems = problems(f);
        assertEquals(2, problems.size(), problems.toString());
        assertEquals(f + ":2: mysql.port: expected an integer 1-65535, got \"abc\"", problems.get(0));
        assertTrue(problems.get(1).startsWith(f + ":3: syntax error: "), problems.get(1));
    }

    @Test
    void tabs_in_the_indentation_are_a_syntax_error_on_their_line() throws IOException {
        Path f = file("mysql:", "  host: db", "\tport: 1");
        List<String> problems = problems(f);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith(f + ":3: syntax error: "), problems.get(0));
    }

    @Test
    void a_second_yaml_document_is_refused() throws IOException {
        Path f = file("mysql:", "  port: 1", "---", "sync:", "  lanes: 2");
        assertEquals(List.of(f + ":4: a second YAML document; a config file holds one"), problems(f));
    }

    @Test
    void an_alias_is_refused_rather_than_read_as_its_name() throws IOException {
        Path f = file("mysql:", "  port: &p 13306", "replica:", "  port: *p");
        assertEquals(List.of(f + ":4: replica.port: aliases (*p) are not supported, write the value out"),
                problems(f));
    }

    // --- problems involving several keys

    @Test
    void sentinel_mode_without_a_master_name_is_blamed_on_the_mode() throws IOException {
        Path f = file(
                "side-a:",
                "  nodes: [s1:26379, s2:26379]",
                "  mode: sentinel");
        assertEquals(List.of(f + ":3: side-a.mode: sentinel mode needs side-a.master-name,"
                + " the name the sentinels know the master by"), problems(f));

        Config fixed = loader(Map.of("RPCTL_SIDE_A_MASTER_NAME", "cache-a")).load(f, Map.of());
        assertEquals(SideMode.SENTINEL, fixed.side("a").mode());
        assertEquals("cache-a", fixed.side("a").masterName());
    }

    @Test
    void cluster_mode_with_a_database_other_than_zero_is_blamed_on_the_database() throws IOException {
        Path f = file(
                "side-b:",
                "  mode: cluster",
                "  database: 3");
        assertEquals(List.of(f + ":3: side-b.database: must be 0 when side-b.mode is cluster"
                + " (a Redis Cluster has only database 0), got 3"), problems(f));
    }

    @Test
    void a_cross_key_problem_names_the_variable_that_set_the_value() {
        assertEquals(List.of("env RPCTL_SIDE_B_MODE: side-b.mode: sentinel mode needs side-b.master-name,"
                        + " the name the sentinels know the master by"),
                problems(Map.of("RPCTL_SIDE_B_MODE", "sentinel"), null, Map.of()));
        assertEquals(List.of("flag --side-a-database: side-a.database: must be 0 when side-a.mode is cluster"
                        + " (a Redis Cluster has only database 0), got 2"),
                problems(Map.of("RPCTL_SIDE_A_MODE", "cluster"), null, Map.of("side-a.database", "2")));
    }

    @Test
    void a_key_template_with_braces_or_without_user_is_refused() throws IOException {
        Path braces = write("braces.yaml", "mapping:", "  key-template: rp:{<activity>}:<user>");
        assertEquals(List.of(braces + ":2: mapping.key-template: must not contain '{' or '}': on a Redis Cluster"
                + " they form a hash tag, which would pile every key of an activity onto one slot,"
                + " got \"rp:{<activity>}:<user>\""), problems(braces));
        Path noUser = write("no-user.yaml", "mapping:", "  claim-table: claims", "  key-template: rp:<activity>");
        assertEquals(List.of(noUser + ":3: mapping.key-template: must contain <user> (a key names one claim of"
                + " one user in one activity), got \"rp:<activity>\""), problems(noUser));
        Path joined = write("joined.yaml", "mapping:", "  key-template: rp:<activity><user>");
        assertEquals(List.of(joined + ":2: mapping.key-template: must separate <activity> and <user> by a character that"
                + " is not a digit (\":\" in rp:claim:<activity>:<user>), or two claims share a key,"
                + " got \"rp:<activity><user>\""), problems(joined));
    }

    // --- environment and flags

    @Test
    void a_bad_variable_is_reported_by_its_name() {
        assertEquals(List.of("env RPCTL_MYSQL_PORT: mysql.port: expected an integer 1-65535, got \"abc\""),
                problems(Map.of("RPCTL_MYSQL_PORT", "abc"), null, Map.of()));
    }

    @Test
    void a_misspelt_variable_is_reported_and_unrelated_ones_are_ignored() {
        Map<String, String> env = Map.of(
                "RPCTL_MYSQL_PROT", "13306",
                "RPCTL_HOME", "/opt/rpctl",
                "RPCTL_CONFIG_DIR_UNUSED_BY_RPCTL", "x",
                "PATH", "/usr/bin");
        assertEquals(List.of("env RPCTL_MYSQL_PROT: unknown variable, did you mean RPCTL_MYSQL_PORT?"),
                problems(env, null, Map.of()));
    }

    @Test
    void rpctl_config_names_the_file_and_is_not_a_key() throws IOException {
        Path f = write("elsewhere/conf.yaml", "mysql:", "  port: 13306");
        Config config = loader(Map.of("RPCTL_CONFIG", f.toString())).load(null, Map.of());
        assertEquals(13306, config.mysql().port());
        assertEquals(Optional.of(f), config.file());
    }

    @Test
    void a_bad_flag_is_reported_by_its_option() {
        assertEquals(List.of(
                        "flag --mysql-pool-size: mysql.pool-size: expected an integer 1-512, got 0",
                        "flag --mysql-poolsize: unknown key mysql.poolsize"),
                problems(Map.of(), null, Map.of("mysql.pool-size", "0", "mysql.poolsize", "8")));
    }

    // --- the file itself

    @Test
    void a_missing_explicit_file_is_a_problem() {
        Path missing = dir.resolve("nope.yaml");
        assertEquals(List.of(missing + ": cannot read: no such file"), problems(missing));
    }

    @Test
    void a_missing_file_named_by_rpctl_config_is_a_problem() {
        Path missing = dir.resolve("nope.yaml");
        assertEquals(List.of(missing + ": cannot read: no such file (named by RPCTL_CONFIG)"),
                problems(Map.of("RPCTL_CONFIG", missing.toString()), null, Map.of()));
    }

    @Test
    void a_directory_given_as_the_file_is_a_problem() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("conf.d"));
        assertEquals(List.of(sub + ": cannot read: is a directory"), problems(sub));
    }

    @Test
    void a_relative_explicit_file_is_found_from_the_working_directory() throws IOException {
        write("conf/rpctl.yaml", "sync:", "  lanes: 4");
        Config config = loader(Map.of()).load(Path.of("conf/rpctl.yaml"), Map.of());
        assertEquals(4, config.sync().lanes());
    }

    @Test
    void every_problem_is_reported_at_once_file_first_then_environment_then_flags() throws IOException {
        Path f = file(
                "mysql:",
                "  port: 0",
                "  hots: db",
                "side-a:",
                "  mode: sentinel",
                "  timeout: soon",
                "mapping:",
                "  key-template: rp:<activity>");
        List<String> problems = problems(
                Map.of("RPCTL_SYNC_LANES", "1000"), f, Map.of("claim.budget-shards", "2000"));
        assertEquals(List.of(
                f + ":2: mysql.port: expected an integer 1-65535, got 0",
                f + ":3: mysql.hots: unknown key, did you mean mysql.host?",
                f + ":6: side-a.timeout: expected a duration like 250ms, 5s, 2m, got \"soon\"",
                f + ":8: mapping.key-template: must contain <user> (a key names one claim of one user in one"
                        + " activity), got \"rp:<activity>\"",
                "env RPCTL_SYNC_LANES: sync.lanes: expected an integer 1-256, got 1000",
                "flag --claim-budget-shards: claim.budget-shards: expected an integer 1-1024, got 2000",
                f + ":5: side-a.mode: sentinel mode needs side-a.master-name, the name the sentinels know"
                        + " the master by"), problems);
        ConfigException e = assertThrows(ConfigException.class,
                () -> loader(Map.of("RPCTL_SYNC_LANES", "1000")).load(f, Map.of("claim.budget-shards", "2000")));
        assertEquals(String.join("\n", problems), e.getMessage());
    }

    // --- secrets

    @Test
    void no_problem_echoes_a_secret() throws IOException {
        Path f = file(
                "mysql:",
                "  password: hunter2",
                "  pasword: hunter3",
                "  port: x",
                "side-a:",
                "  password:",
                "    - hunter4",
                "replica:",
                "  password: {value: hunter5}");
        Map<String, String> env = Map.of("RPCTL_SIDE_B_PASSWRD", "hunter6", "RPCTL_SIDE_A_PASSWORD", "hunter7");
        ConfigException e = assertThrows(ConfigException.class,
                () -> loader(env).load(f, Map.of("replica.password", "hunter8")));
        assertEquals(5, e.problems().size(), e.getMessage());
        for (String secret : List.of("hunter2", "hunter3", "hunter4", "hunter5", "hunter6", "hunter7", "hunter8")) {
            assertFalse(e.getMessage().contains(secret), e.getMessage());
        }
        assertTrue(e.getMessage().contains(f + ":6: side-a.password: expected a string, got a list"), e.getMessage());
    }

    // --- locating the file

    @Test
    void locate_prefers_the_explicit_file_then_rpctl_config_then_the_working_directory_then_etc()
            throws IOException {
        Path explicit = write("explicit.yaml", "");
        Path named = write("named.yaml", "");
        Path system = write("etc/rpctl/config.yaml", "");
        ConfigLoader noEnv = loader(Map.of());
        ConfigLoader withEnv = loader(Map.of("RPCTL_CONFIG", named.toString()));

        assertEquals(Optional.of(system), noEnv.locate(null));
        Path local = write("rpctl.yaml", "");
        assertEquals(Optional.of(local), noEnv.locate(null));
        assertEquals(Optional.of(named), withEnv.locate(null));
        assertEquals(Optional.of(explicit), withEnv.locate(explicit));
    }

    @Test
    void locate_finds_nothing_when_no_file_exists_and_the_defaults_serve() {
        assertEquals(Optional.empty(), loader(Map.of()).locate(null));
        assertEquals(Origin.DEFAULT, loader(Map.of()).load(null, null).origin(Keys.MYSQL_HOST));
    }

    @Test
    void locate_does_not_fall_through_when_the_named_file_is_missing() throws IOException {
        write("rpctl.yaml", "");
        Path missing = dir.resolve("missing.yaml");
        assertEquals(Optional.of(missing), loader(Map.of("RPCTL_CONFIG", missing.toString())).locate(null));
        assertEquals(Optional.of(missing), loader(Map.of()).locate(missing));
    }

    @Test
    void the_file_in_the_working_directory_is_read_without_being_named() throws IOException {
        Path local = write("rpctl.yaml", "claim:", "  write-through-timeout: 1s");
        Config config = loader(Map.of()).load(null, Map.of());
        assertEquals(Duration.ofSeconds(1), config.claim().writeThroughTimeout());
        assertEquals(local + ":2", config.where(Keys.CLAIM_WRITE_THROUGH_TIMEOUT));
    }

    private Path withPerms(Path f, String perms) throws IOException {
        Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString(perms));
        return f;
    }

    @Test
    void strict_perms_refuses_a_password_in_clear_in_a_file_others_may_read_without_quoting_it() throws IOException {
        Path f = withPerms(file("mysql:", "  host: db1", "  password: hunter2-secret"), "rw-r--r--");
        List<String> problems = assertThrows(ConfigException.class,
                () -> loader(Map.of()).strictPerms(true).load(f, Map.of())).problems();
        assertEquals(1, problems.size(), problems::toString);
        String p = problems.get(0);
        assertTrue(p.startsWith(f + ":3: mysql.password is written in clear in a file others may read (rw-r--r--)"), p);
        assertTrue(p.contains("RPCTL_MYSQL_PASSWORD") && p.contains("chmod 600"), p);
        assertFalse(p.contains("hunter2"), p);
        // without --strict-perms it is a warning: the file loads
        assertEquals("hunter2-secret", loader(Map.of()).load(f, Map.of()).mysql().password());
    }

    @Test
    void strict_perms_accepts_a_private_file_and_secrets_by_reference() throws IOException {
        Path owner = withPerms(write("private.yaml", "side-a:", "  password: s3cret"), "rw-------");
        assertEquals("s3cret", loader(Map.of()).strictPerms(true).load(owner, Map.of()).side("a").password());
        Path shared = withPerms(write("shared.yaml", "side-a:", "  password: ${env:REDIS_PW}", "mysql:",
                "  password: \"\""), "rw-r--r--");
        assertEquals("x", loader(Map.of("REDIS_PW", "x")).strictPerms(true).load(shared, Map.of()).side("a").password());
    }

    /** What ConfigLoader logs while {@code r} runs, as WARN lines. */
    private static List<String> warnings(Runnable r) {
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ConfigLoader.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
                new ch.qos.logback.core.read.ListAppender<>();
        seen.start();
        log.addAppender(seen);
        try {
            r.run();
        } finally {
            log.detachAppender(seen);
        }
        return seen.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void a_tls_key_file_others_may_read_is_a_warning_and_refused_with_strict_perms() throws IOException {
        Path key = withPerms(write("client.key", "-----BEGIN PRIVATE KEY-----"), "rw-r-----");
        Map<String, String> env = Map.of("RPCTL_KAFKA_TLS_KEY", key.toString());
        List<String> warned = warnings(() -> loader(env).load(null, Map.of()));
        assertEquals(List.of("env RPCTL_KAFKA_TLS_KEY: kafka.tls-key: the private key " + key
                + " may be read by users other than its owner (rw-r-----); chmod 600 it"), warned);

        Path f = withPerms(file("mysql:", "  tls-key: client.key"), "rw-------");
        List<String> problems = assertThrows(ConfigException.class,
                () -> loader(Map.of()).strictPerms(true).load(f, Map.of())).problems();
        assertEquals(List.of(f + ":2: mysql.tls-key: the private key client.key may be read by users other than its"
                + " owner (rw-r-----); chmod 600 it"), problems);
        // the command line's --strict-perms is 78, as for a password in clear
        dev.rpctl.Rpctl.Result r = dev.rpctl.Rpctl.isolated(dir).with("RPCTL_SIDE_B_TLS_KEY", key.toString())
                .run("--strict-perms", "config", "check");
        assertEquals(78, r.exitCode(), r::toString);
        assertTrue(r.err().contains("side-b.tls-key: the private key " + key), r::toString);
    }

    @Test
    void a_tls_key_file_only_its_owner_may_read_passes_strict_perms_without_a_warning() throws IOException {
        Path key = withPerms(write("own.key", "-----BEGIN PRIVATE KEY-----"), "rw-------");
        Map<String, String> env = Map.of("RPCTL_SIDE_A_TLS_KEY", key.toString(), "RPCTL_MYSQL_TLS_KEY", "missing.key");
        assertEquals(List.of(), warnings(() -> loader(env).strictPerms(true).load(null, Map.of())));
    }
}
