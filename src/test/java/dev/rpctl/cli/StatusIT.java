package dev.rpctl.cli;

import dev.rpctl.Rpctl;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatusIT {
    @Test
    void status_pings_every_side_itself_and_a_side_that_is_down_fails_it_by_name() {
        Rpctl rpctl = Rpctl.withServices();
        assertEquals(0, rpctl.run("db", "init").exitCode());
        Rpctl.Result down = rpctl.with("RPCTL_SIDE_B_NODES", "127.0.0.1:1").run("status");
        assertEquals(1, down.exitCode(), down::toString);
        assertTrue(down.out().contains("side b at 127.0.0.1:1 is down"), down.out());
        Rpctl.Result json = rpctl.with("RPCTL_SIDE_B_NODES", "127.0.0.1:1").run("--json", "status");
        String compact = json.out().replaceAll("\\s", "");
        assertTrue(compact.contains("\"side\":\"b\",\"address\":\"127.0.0.1:1\",\"up\":false"), json.out());
        assertTrue(compact.contains("\"side\":\"a\",\"address\":"), json.out());
    }

    @Test
    void watch_without_a_terminal_is_a_usage_error() {
        Rpctl.Result r = Rpctl.withServices().run("status", "--watch");
        assertEquals(64, r.exitCode(), r::toString);
        assertTrue(r.err().contains("--watch"), r.err());
    }
}
