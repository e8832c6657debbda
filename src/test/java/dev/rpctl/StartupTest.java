package dev.rpctl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a command loads at start, seen from a JVM of its own (-verbose:class): a command loads
 * only what it uses, so that the commands an operator types in an incident start fast.
 */
class StartupTest {
    @TempDir
    Path tmp;

    record Loaded(int exitCode, List<String> classes, String out) {
        boolean any(String prefix) {
            return classes.stream().anyMatch(c -> c.startsWith(prefix));
        }

        List<String> of(String prefix) {
            return classes.stream().filter(c -> c.startsWith(prefix)).limit(5).toList();
        }
    }

    /** Runs rpctl in a new JVM with the test's class path, against servers that are not there. */
    private Loaded run(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:file=" + tmp.resolve("classes.txt"), "-cp", System.getProperty("java.class.path"),
                "dev.rpctl.Main"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(tmp.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("RPCTL_"));
        pb.environment().putAll(Map.of("RPCTL_CONFIG", Files.writeString(tmp.resolve("rpctl.yaml"), "# defaults\n").toString(),
                "RPCTL_MYSQL_PORT", "1", "RPCTL_SIDE_A_NODES", "127.0.0.1:1", "RPCTL_SIDE_B_NODES", "127.0.0.1:1"));
        Path out = tmp.resolve("out.txt");
        pb.redirectErrorStream(true).redirectOutput(out.toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        List<String> classes = Files.readAllLines(tmp.resolve("classes.txt")).stream()
                .map(l -> l.replaceFirst("^\\[[^]]*]\\[[^]]*]\\[[^]]*] ", ""))
                .map(l -> l.split(" ", 2)[0])
                .toList();
        return new Loaded(p.exitValue(), classes, Files.readString(out));
    }

    @Test
    void help_and_version_load_no_pool_no_driver_no_redis_client_no_jackson_and_no_logging() throws Exception {
        for (String flag : List.of("--help", "--version")) {
            Loaded help = run(flag);
            assertEquals(0, help.exitCode(), help::out);
            for (String library : List.of("com.zaxxer.hikari", "com.mysql", "redis.clients", "com.fasterxml.jackson",
                    "org.yaml.snakeyaml", "ch.qos.logback.classic", "org.slf4j")) {
                assertTrue(!help.any(library), flag + " loads nothing of " + library + ", but loaded " + help.of(library));
            }
        }
    }

    @Test
    void a_command_sets_up_its_logging() throws Exception {
        Loaded status = run("status");
        assertEquals(69, status.exitCode(), status::out);
        assertTrue(status.any("ch.qos.logback.classic.LoggerContext"));
    }

    @Test
    void a_command_printing_a_table_loads_no_json_mapper() throws Exception {
        // the configuration file is read with Jackson's streaming YAML parser; no --json: no document to write
        Loaded show = run("config", "show");
        assertEquals(0, show.exitCode(), show::out);
        assertTrue(show.out().contains("mysql.port"), show::out);
        assertTrue(!show.any("com.fasterxml.jackson.databind"), () -> "loaded " + show.of("com.fasterxml.jackson.databind"));
        Loaded json = run("--json", "config", "show");
        assertEquals(0, json.exitCode(), json::out);
        assertTrue(json.any("com.fasterxml.jackson.databind"), "--json writes its document with Jackson");
    }
}
