package dev.rpctl.cache;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import redis.clients.jedis.exceptions.JedisAccessControlException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/** The operator's view of a Redis failure that got past the side that should have translated it. */
public final class RedisFailures {
    private RedisFailures() {
    }

    /** A lost Redis connection is exit 69, a login a Redis refuses exit 78; anything else comes back unchanged. */
    public static Exception translate(Exception e) {
        if (e instanceof RpctlException) {
            return e;
        }
        if (e instanceof JedisConnectionException) {
            return new RpctlException(ExitCode.UNAVAILABLE, "redis is unreachable: " + RpctlException.rootMessage(e), e);
        }
        if (loginRefused(e)) {
            return new RpctlException(ExitCode.CONFIG, "redis login refused (" + RpctlException.rootMessage(e)
                    + "); check side-a/side-b.user and .password", e);
        }
        return e;
    }

    /** Whether Redis refused the credentials (wrong password, a password where none is set, none where one is). */
    public static boolean loginRefused(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof JedisAccessControlException) {
                return true;
            }
            if (t instanceof JedisDataException && t.getMessage() != null
                    && t.getMessage().matches("(?s)(WRONGPASS|NOAUTH|ERR AUTH|ERR invalid password|ERR Client sent AUTH).*")) {
                return true;
            }
        }
        return false;
    }
}
