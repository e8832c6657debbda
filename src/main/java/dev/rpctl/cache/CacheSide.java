package dev.rpctl.cache;

import dev.rpctl.RpctlException;
import dev.rpctl.config.HostPort;
import dev.rpctl.config.SideMode;
import dev.rpctl.config.SideSettings;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisSocketFactory;
import redis.clients.jedis.JedisSocketFactory;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.JedisSentineled;
import redis.clients.jedis.PipelineBase;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisException;

import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One cache side: a single Redis, a Redis Cluster or a Sentinel-managed master, behind the same
 * few calls. Writes go through {@link dev.rpctl.protocol.CacheProtocol}, never straight here.
 */
public final class CacheSide implements AutoCloseable {
    private final String name;
    private final SideSettings settings;
    private final String address;
    private volatile UnifiedJedis client;

    public CacheSide(SideSettings settings) {
        this.name = settings.name();
        this.settings = settings;
        this.address = settings.nodes().stream().map(HostPort::toString).collect(Collectors.joining(","));
    }

    public String name() {
        return name;
    }

    public String address() {
        return address;
    }

    public boolean cluster() {
        return settings.mode() == SideMode.CLUSTER;
    }

    public UnifiedJedis client() {
        UnifiedJedis c = client;
        if (c == null) {
            synchronized (this) {
                if (client == null) {
                    client = open();
                }
                c = client;
            }
        }
        return c;
    }

    private DefaultJedisClientConfig.Builder clientConfig(int connectTimeoutMillis) {
        DefaultJedisClientConfig.Builder b = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(connectTimeoutMillis).socketTimeoutMillis((int) settings.timeout().toMillis())
                .ssl(settings.tls()).clientName("rpctl-" + name);
        if (!settings.user().isBlank()) {
            b.user(settings.user());
        }
        if (!settings.password().isBlank()) {
            b.password(settings.password());
        }
        return b;
    }

    /** Whether this side is one Redis server, to which {@link #openLink} connects. */
    public boolean single() {
        return settings.mode() == SideMode.SINGLE;
    }

    /**
     * A connection of its own to this single Redis, outside the pool, for writes whose replies
     * are read later (see {@link SideLink}). Connecting and its handshake take at most timeout;
     * opened gets the socket as soon as it exists, so that another thread can close it to stop
     * a handshake a hung server never answers.
     */
    public SideLink openLink(Duration timeout, Consumer<Socket> opened) {
        if (!single()) {
            throw new IllegalStateException("side " + name + " is not a single Redis");
        }
        int ms = (int) Math.max(1, Math.min(timeout.toMillis(), settings.timeout().toMillis()));
        HostPort hp = settings.nodes().get(0);
        JedisClientConfig config = clientConfig(ms).socketTimeoutMillis(ms).database(settings.database()).build();
        JedisSocketFactory sockets = new DefaultJedisSocketFactory(new HostAndPort(hp.host(), hp.port()), config) {
            @Override
            public Socket createSocket() {
                Socket s = super.createSocket();
                opened.accept(s);
                return s;
            }
        };
        try {
            return new SideLink(sockets, config);
        } catch (JedisConnectionException e) {
            throw unavailable(e);
        }
    }

    private UnifiedJedis open() {
        int timeout = (int) settings.timeout().toMillis();
        DefaultJedisClientConfig.Builder b = clientConfig(timeout);
        GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
        pool.setMaxTotal(settings.poolSize());
        pool.setMaxIdle(settings.poolSize());
        pool.setMinIdle(0);
        pool.setJmxEnabled(false);
        Set<HostAndPort> nodes = new LinkedHashSet<>();
        for (HostPort hp : settings.nodes()) {
            nodes.add(new HostAndPort(hp.host(), hp.port()));
        }
        try {
            return switch (settings.mode()) {
                case SINGLE -> new JedisPooled(nodes.iterator().next(), b.database(settings.database()).build(), pool);
                case CLUSTER -> new JedisCluster(nodes, b.build(), 5, pool);
                case SENTINEL -> {
                    JedisClientConfig sentinelConfig = DefaultJedisClientConfig.builder()
                            .connectionTimeoutMillis(timeout).socketTimeoutMillis(timeout).build();
                    yield new JedisSentineled(settings.masterName(), b.database(settings.database()).build(), pool,
                            nodes, sentinelConfig);
                }
            };
        } catch (JedisException e) {
            throw unavailable(e);
        }
    }

    /** Runs a call against this side, turning a connection failure into exit 69 naming the side. */
    public <T> T call(Function<UnifiedJedis, T> f) {
        try {
            return f.apply(client());
        } catch (JedisConnectionException e) {
            throw unavailable(e);
        }
    }

    public RpctlException unavailable(Throwable e) {
        return RpctlException.unavailable("redis side " + name, address, e);
    }

    public String get(String key) {
        return call(j -> j.get(key));
    }

    /** Raw values of many keys; pipelined per node on a cluster, where MGET cannot span slots. */
    public List<String> getAll(List<String> keys) {
        if (keys.isEmpty()) {
            return List.of();
        }
        if (!cluster()) {
            return call(j -> j.mget(keys.toArray(String[]::new)));
        }
        return call(j -> {
            List<Response<String>> rs = new ArrayList<>(keys.size());
            try (PipelineBase p = j.pipelined()) {
                for (String k : keys) {
                    rs.add(p.get(k));
                }
                p.sync();
            }
            List<String> out = new ArrayList<>(keys.size());
            for (Response<String> r : rs) {
                out.add(r.get());
            }
            return out;
        });
    }

    /** Milliseconds to live; -1 without expiry, -2 when absent. */
    public long pttl(String key) {
        return call(j -> j.pttl(key));
    }

    public void ping() {
        call(UnifiedJedis::ping);
    }

    @Override
    public void close() {
        UnifiedJedis c = client;
        if (c != null) {
            c.close();
        }
    }
}
