package dev.rpctl.cache;

import redis.clients.jedis.UnifiedJedis;

import java.util.function.Function;

/**
 * Plain Redis commands on a side's own connections, for tests that plant what rpctl never writes
 * (garbage, a key deleted outright) or measure Redis without rpctl around it.
 */
public final class RawRedis {
    private RawRedis() {
    }

    public static <T> T call(CacheSide side, Function<UnifiedJedis, T> f) {
        return side.call(f);
    }

    /** The side's client itself, for a measurement that should pay for nothing else. */
    public static UnifiedJedis client(CacheSide side) {
        return side.client();
    }
}
