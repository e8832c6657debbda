package dev.rpctl.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** config.example.yaml ships with the binary: it must load cleanly and document every key. */
class ExampleConfigTest {

    private static final Path EXAMPLE = Path.of("config.example.yaml");

    private Config load() {
        return new ConfigLoader(Map.of(), Path.of("").toAbsolutePath(), Path.of("/nonexistent"))
                .load(EXAMPLE, Map.of());
    }

    @Test
    void the_example_loads_without_problems_and_with_no_environment() {
        Config config = load();
        assertEquals(Path.of("").toAbsolutePath().resolve(EXAMPLE), config.file().orElseThrow());
    }

    @Test
    void the_example_sets_every_key() {
        Config config = load();
        List<String> missing = Keys.all().stream().filter(k -> config.origin(k) != Origin.FILE).map(Key::name)
                .toList();
        assertEquals(List.of(), missing);
    }

    @Test
    void the_example_points_at_the_local_services() {
        Config config = load();
        assertEquals("127.0.0.1:13306", config.mysql().address());
        assertEquals("rpctl", config.mysql().database());
        assertEquals(List.of(HostPort.parse("127.0.0.1:16379")), config.side("a").nodes());
        assertEquals(List.of(HostPort.parse("127.0.0.1:16380")), config.side("b").nodes());
        assertEquals("127.0.0.1:19092", config.kafka().bootstrap());
    }
}
