package dev.rpctl.cache;

import dev.rpctl.ExitCode;
import dev.rpctl.RpctlException;
import redis.clients.jedis.exceptions.JedisConnectionException;

/** The operator's view of a Redis failure that got past the side that should have translated it. */
public final class RedisFailures {
    private RedisFailures() {
    }

    /** A lost Redis connection is exit 69; anything else comes back unchanged. */
    public static Exception translate(Exception e) {
        if (e instanceof JedisConnectionException) {
            return new RpctlException(ExitCode.UNAVAILABLE, "redis is unreachable: " + RpctlException.rootMessage(e), e);
        }
        return e;
    }
}
