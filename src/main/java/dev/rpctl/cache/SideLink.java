package dev.rpctl.cache;

import redis.clients.jedis.Connection;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisSocketFactory;

/**
 * One connection to a single Redis on which commands are written and flushed at once, and their
 * replies read later: a caller can put its writes on the wire to two servers before it waits
 * for either. Not for concurrent use.
 */
public final class SideLink extends Connection {
    SideLink(JedisSocketFactory sockets, JedisClientConfig config) {
        super(sockets, config);
    }

    /** Puts the commands written so far on the wire, without reading any reply. */
    public void send() {
        flush();
    }
}
