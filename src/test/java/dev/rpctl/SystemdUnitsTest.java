package dev.rpctl;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The systemd units shipped in packaging/systemd, as systemd itself judges them. */
class SystemdUnitsTest {
    private static final Path UNITS = Path.of("packaging", "systemd");
    /** systemd-analyze's words for an exposure of 4.9 or less, best first. */
    private static final Set<String> OK_OR_BETTER = Set.of("PERFECT", "SAFE", "OK");

    private static List<Path> services() throws IOException {
        try (Stream<Path> files = Files.list(UNITS)) {
            return files.filter(f -> f.toString().endsWith(".service")).sorted().toList();
        }
    }

    private static String value(String unit, String key) {
        return unit.lines().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1))
                .reduce((a, b) -> a + " " + b).orElse("");
    }

    @Test
    void every_service_is_rated_ok_or_better_by_systemd_analyze_security() throws Exception {
        List<Path> services = services();
        assertEquals(5, services.size(), services::toString);
        for (Path unit : services) {
            Process p;
            try {
                p = new ProcessBuilder("systemd-analyze", "security", "--offline=true", unit.toString())
                        .redirectErrorStream(true).start();
            } catch (IOException e) {
                Assumptions.abort("systemd-analyze is not installed here");
                return;
            }
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            Assumptions.assumeTrue(out.contains("Overall exposure level"), () -> "systemd-analyze cannot judge units offline here: " + out);
            String verdict = out.lines().filter(l -> l.contains("Overall exposure level")).findFirst().orElseThrow();
            assertTrue(OK_OR_BETTER.stream().anyMatch(verdict::contains), unit + ": " + verdict);
        }
    }

    @Test
    void the_daemon_units_stop_restarting_where_an_operator_is_needed_and_after_a_crash_loop() throws Exception {
        for (String name : List.of("rpctl-sync.service", "rpctl-sync@.service", "rpctl-kafka-publisher.service",
                "rpctl-kafka-applier.service")) {
            String unit = Files.readString(UNITS.resolve(name));
            assertEquals(Set.of("64", "65", "78"), Set.of(value(unit, "RestartPreventExitStatus").split(" ")), name);
            assertEquals("always", value(unit, "Restart"), name);
            assertTrue(!value(unit, "StartLimitIntervalSec").isEmpty() && !value(unit, "StartLimitBurst").isEmpty(), name);
        }
    }

    @Test
    void the_templated_daemon_is_the_single_one_with_its_own_metrics_port() throws Exception {
        String single = Files.readString(UNITS.resolve("rpctl-sync.service"));
        String template = Files.readString(UNITS.resolve("rpctl-sync@.service"));
        assertEquals("/usr/local/bin/rpctl sync-daemon --metrics 127.0.0.1:%i", value(template, "ExecStart"));
        // the same service otherwise, its hardening included, so the two never drift apart
        assertEquals(single.substring(single.indexOf("[Service]")).replace("ExecStart=/usr/local/bin/rpctl sync-daemon\n", ""),
                template.substring(template.indexOf("[Service]")).replace("ExecStart=/usr/local/bin/rpctl sync-daemon --metrics 127.0.0.1:%i\n", ""));
    }

    @Test
    void a_timer_runs_the_reconcile_service() throws Exception {
        String timer = Files.readString(UNITS.resolve("rpctl-reconcile.timer"));
        assertTrue(!value(timer, "OnCalendar").isEmpty(), timer);
        String service = Files.readString(UNITS.resolve("rpctl-reconcile.service"));
        assertEquals("oneshot", value(service, "Type"));
        assertTrue(value(service, "ExecStart").startsWith("/usr/local/bin/rpctl reconcile "), service);
    }
}
