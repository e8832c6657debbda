package dev.rpctl.cache;

import redis.clients.jedis.Connection;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisAskDataException;
import redis.clients.jedis.exceptions.JedisClusterOperationException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisMovedDataException;
import redis.clients.jedis.exceptions.JedisRedirectionException;
import redis.clients.jedis.providers.ClusterConnectionProvider;
import redis.clients.jedis.util.JedisClusterCRC16;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Where a Redis Cluster side's calls go, and what a call does when the cluster has changed under
 * it. jedis follows MOVED and ASK for single commands, but its pipelines hand those replies back,
 * and after an ASK it does not load a script on the node that answers NOSCRIPT (the node importing
 * the slot). Here a call follows MOVED (refreshing the slot map) and ASK (ASKING, then the call,
 * on one connection to the target), and loads the script on whichever node answers NOSCRIPT. The
 * slot map is also refreshed after a connection failure and every {@link #REFRESH}, so a replica
 * promoted in place of a dead master is found without a redirection to point at it.
 */
final class ClusterRoutes implements AutoCloseable {
    static final Duration REFRESH = Duration.ofSeconds(5);
    /** Redirections one call follows before it gives up (a slot moving back and forth). */
    private static final int MAX_HOPS = 5;
    private static final int SLOTS = 16384;

    private final ClusterConnectionProvider provider;
    private final ScheduledExecutorService refresher;

    ClusterRoutes(ClusterConnectionProvider provider, String side) {
        this.provider = provider;
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cluster-slots-" + side);
            t.setDaemon(true);
            return t;
        });
        refresher.scheduleWithFixedDelay(this::refreshQuietly, REFRESH.toMillis(), REFRESH.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Reads the slot map again from the cluster (from any node that answers). */
    void refresh() {
        provider.renewSlotCache();
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            // the next call's failure says what is wrong; a refresh is only a hint
        }
    }

    /**
     * One script call by SHA where its slot lives now. {@code redirect} is the MOVED or ASK a
     * pipeline got for this call (null: none); the caller has refreshed the map for a MOVED.
     */
    Object evalsha(LuaScript s, List<String> keys, List<String> args, JedisRedirectionException redirect) {
        int slot = JedisClusterCRC16.getSlot(keys.get(0));
        HostAndPort node = redirect == null ? provider.getNode(slot) : redirect.getTargetNode();
        boolean asking = redirect instanceof JedisAskDataException;
        for (int hop = 0; ; hop++) {
            try (Jedis j = new Jedis(provider.getConnection(node))) {
                return evalshaOn(j, s, keys, args, asking);
            } catch (JedisRedirectionException r) {
                if (hop >= MAX_HOPS) {
                    throw r;
                }
                if (r instanceof JedisMovedDataException) {
                    refresh();
                }
                node = r.getTargetNode();
                asking = r instanceof JedisAskDataException;
            } catch (JedisConnectionException e) {
                // the node went away: where the map now puts the slot (a promoted replica), once
                refresh();
                HostAndPort now = provider.getNode(slot);
                if (hop >= MAX_HOPS || now == null || now.equals(node)) {
                    throw e;
                }
                node = now;
                asking = false;
            }
        }
    }

    private static Object evalshaOn(Jedis j, LuaScript s, List<String> keys, List<String> args, boolean asking) {
        try {
            if (asking) {
                j.asking();
            }
            return j.evalsha(s.sha(), keys, args);
        } catch (JedisDataException ex) {
            if (!CacheSide.isNoScript(ex)) {
                throw ex;
            }
            // loaded on this very node, which may be one importing the slot that the map does not name yet
            j.scriptLoad(s.text());
            if (asking) {
                j.asking();
            }
            return j.evalsha(s.sha(), keys, args);
        }
    }

    /**
     * Pings the master of every slot: the side is up when each slot can be written. A master that
     * does not answer makes the map be read again and the masters pinged once more.
     */
    void pingMasters() {
        for (int attempt = 0; ; attempt++) {
            try {
                for (HostAndPort n : masters()) {
                    try (Connection c = provider.getConnection(n)) {
                        c.ping();
                    }
                }
                return;
            } catch (JedisConnectionException | JedisClusterOperationException e) {
                refresh();
                if (attempt > 0) {
                    throw e;
                }
            }
        }
    }

    private Set<HostAndPort> masters() {
        Set<HostAndPort> out = new LinkedHashSet<>();
        for (int slot = 0; slot < SLOTS; slot++) {
            HostAndPort n = provider.getNode(slot);
            if (n == null) {
                throw new JedisClusterOperationException("slot " + slot + " has no master in the slot map");
            }
            out.add(n);
        }
        return out;
    }

    @Override
    public void close() {
        refresher.shutdownNow();
    }
}
