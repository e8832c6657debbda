package dev.rpctl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Log lines as an operator reads them from a real process: JSON for the daemon, or through their own logback file. */
class LoggingIT {
    @TempDir
    Path dir;

    private Process start(Map<String, String> env, Path err, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(new File("bin/rpctl").getAbsolutePath()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile());
        pb.environment().putAll(Services.env());
        pb.environment().putAll(env);
        return pb.start();
    }

    private int run(Map<String, String> env, Path err, String... args) throws Exception {
        Process p = start(env, err, args);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return p.exitValue();
    }

    private String activity() {
        String id = Long.toString(Services.freshActivityId());
        assertEquals(0, Rpctl.withServices().run("activity", "create", "--activity", id, "--count", "1", "--amount", "1").exitCode());
        return id;
    }

    @Test
    void with_log_format_json_every_line_the_daemon_logs_is_a_json_object() throws Exception {
        String prefix = "logit" + Services.freshActivityId() % 100_000 + "-";
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path err = dir.resolve("daemon.err");
        Process daemon = start(Map.of(), err, "sync-daemon", "--side", "a", "--from-now", "--log-format", "json",
                "--pipeline-prefix", prefix, "--metrics", "127.0.0.1:" + port);
        try {
            for (int i = 0; i < 600 && !Files.readString(err).contains("leading as"); i++) {
                assertTrue(daemon.isAlive(), Files.readString(err));
                Thread.sleep(100);
            }
        } finally {
            daemon.destroy();
        }
        assertTrue(daemon.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, daemon.exitValue(), Files.readString(err));
        List<String> lines = Files.readAllLines(err);
        assertTrue(lines.size() > 1, lines.toString());
        ObjectMapper json = new ObjectMapper();
        for (String line : lines) {
            JsonNode event = json.readTree(line);
            assertTrue(event.hasNonNull("level") && event.hasNonNull("formattedMessage") && event.hasNonNull("loggerName"), line);
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains("\"level\":\"INFO\"") && l.contains("pipeline " + prefix + "a: leading as")),
                lines.toString());
        Rpctl.withServices().run("pipeline", "drop", prefix + "a");
    }

    private Path logbackFile(Path log) throws Exception {
        Path file = dir.resolve("logback.xml");
        Files.writeString(file, "<configuration>\n"
                + "  <appender name=\"FILE\" class=\"ch.qos.logback.core.FileAppender\">\n"
                + "    <file>" + log + "</file>\n"
                + "    <encoder><pattern>OPS %level %logger{0}: %msg%n</pattern></encoder>\n"
                + "  </appender>\n"
                + "  <logger name=\"dev.rpctl\" level=\"INFO\"/>\n"
                + "  <root level=\"WARN\"><appender-ref ref=\"FILE\"/></root>\n"
                + "</configuration>\n");
        return file;
    }

    @Test
    void rpctl_logback_names_a_file_that_takes_the_lines_and_sets_the_levels() throws Exception {
        String id = activity();
        Path log = dir.resolve("ops.log");
        Path err = dir.resolve("err");
        assertEquals(0, run(Map.of("RPCTL_LOGBACK", logbackFile(log).toString()), err, "activity", "show", "--activity", id));
        assertEquals("", Files.readString(err));
        String logged = Files.readString(log);
        assertTrue(logged.contains("OPS INFO Database: mysql primary at 127.0.0.1:" + Services.env().get("RPCTL_MYSQL_PORT")), logged);
        assertTrue(logged.contains("OPS INFO Cli: rpctl activity show: exit 0 in "), logged);
    }

    @Test
    void the_logback_configuration_file_property_is_honoured_the_same_way() throws Exception {
        String id = activity();
        Path log = dir.resolve("prop.log");
        Path err = dir.resolve("err");
        assertEquals(0, run(Map.of("JAVA_OPTS", "-Dlogback.configurationFile=" + logbackFile(log)), err, "activity", "show", "--activity", id));
        assertTrue(Files.readString(log).contains("OPS INFO Cli: rpctl activity show: exit 0 in "), Files.readString(log));
    }

    @Test
    void a_missing_rpctl_logback_file_exits_78_in_one_line() throws Exception {
        Path err = dir.resolve("err");
        assertEquals(78, run(Map.of("RPCTL_LOGBACK", dir.resolve("nope.xml").toString()), err, "activity", "list"));
        assertEquals(List.of("rpctl: RPCTL_LOGBACK=" + dir.resolve("nope.xml") + ": no such file, or not readable;"
                + " name a logback configuration file, or unset it for the built-in logging"), Files.readAllLines(err));
    }
}
