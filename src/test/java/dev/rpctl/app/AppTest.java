package dev.rpctl.app;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.errors.ExitCode;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.exceptions.JedisConnectionException;

import java.net.ConnectException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

class AppTest {
    @Test
    void a_lost_redis_connection_that_escaped_its_side_is_exit_69_with_the_root_cause() {
        Exception e = App.failure(new JedisConnectionException("failed to connect", new ConnectException("Connection refused")));
        RpctlException typed = assertInstanceOf(RpctlException.class, e);
        assertEquals(ExitCode.UNAVAILABLE, typed.exitCode());
        assertEquals("redis is unreachable: Connection refused", typed.getMessage());
    }

    @Test
    void any_other_failure_is_left_as_it_is() {
        IllegalStateException e = new IllegalStateException("bug");
        assertSame(e, App.failure(e));
    }
}
