package dev.rpctl.cache;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.config.HostPort;
import dev.rpctl.config.SideMode;
import dev.rpctl.config.SideSettings;
import dev.rpctl.config.TlsSettings;
import dev.rpctl.tls.Tls;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.DefaultJedisSocketFactory;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.ConnectionPool;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.JedisSentineled;
import redis.clients.jedis.JedisSocketFactory;
import redis.clients.jedis.PipelineBase;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisAskDataException;
import redis.clients.jedis.exceptions.JedisClusterException;
import redis.clients.jedis.exceptions.JedisClusterOperationException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.exceptions.JedisMovedDataException;
import redis.clients.jedis.exceptions.JedisNoScriptException;
import redis.clients.jedis.exceptions.JedisRedirectionException;
import redis.clients.jedis.providers.ClusterConnectionProvider;

import javax.net.ssl.SSLContext;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One cache side: a single Redis, a Redis Cluster or a Sentinel-managed master, behind the few
 * things rpctl does with one: read raw values and their time to live, and run the protocol's
 * scripts, one call at a time or many pipelined. A single Redis also lends {@link DirectLinks}
 * for writes whose replies are read later. What the scripts write is {@link dev.rpctl.protocol}'s
 * to say; every Redis connection of rpctl is opened here. A Redis Cluster side follows its slots
 * through failovers and migrations ({@link ClusterRoutes}), pipelined calls included.
 */
public final class CacheSide implements AutoCloseable {
    private final String name;
    private final SideSettings settings;
    private final String address;
    private volatile UnifiedJedis client;
    /** A cluster side's routes, once its client is open; null for the other modes. */
    private volatile ClusterRoutes routes;
    private SSLContext sslContext;

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

    /** Whether this side is one Redis server, which lends {@link DirectLinks}. */
    public boolean single() {
        return settings.mode() == SideMode.SINGLE;
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
            boolean refreshed = false;
            for (int i = 0; i < rs.size(); i++) {
                try {
                    out.add(rs.get(i).get());
                } catch (JedisRedirectionException | IllegalStateException moved) {
                    // a moved or migrating slot, or a node gone mid-pipeline: this key alone, which
                    // jedis sends where the slot is now
                    if (!refreshed && !(moved instanceof JedisAskDataException)) {
                        routes.refresh();
                        refreshed = true;
                    }
                    out.add(j.get(keys.get(i)));
                }
            }
            return out;
        });
    }

    /** Milliseconds to live; -1 without expiry, -2 when absent. */
    public long pttl(String key) {
        return call(j -> j.pttl(key));
    }

    /**
     * Every key matching the pattern, a page at a time: SCAN with MATCH and COUNT, never KEYS, on
     * the server or, on a Cluster, on every master. A key written or deleted during the walk may
     * or may not be seen; every key there from start to end is.
     */
    public void scan(String match, int count, Consumer<List<String>> page) {
        ScanParams params = new ScanParams().match(match).count(count);
        call(j -> {
            if (j instanceof JedisCluster cluster) {
                for (ConnectionPool pool : cluster.getClusterNodes().values()) {
                    try (Jedis node = new Jedis(pool.getResource())) {
                        if ("master".equals(String.valueOf(node.role().get(0)))) {
                            scanNode(node::scan, params, page);
                        }
                    }
                }
            } else {
                scanNode(j::scan, params, page);
            }
            return null;
        });
    }

    private static void scanNode(java.util.function.BiFunction<String, ScanParams, ScanResult<String>> scan, ScanParams params,
                                 Consumer<List<String>> page) {
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> r = scan.apply(cursor, params);
            if (!r.getResult().isEmpty()) {
                page.accept(r.getResult());
            }
            cursor = r.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    }

    /** Answers when the side does; on a cluster, when the master of every slot does. */
    /** The server's version (redis_version of INFO server; a Cluster: of the node the call goes to). */
    public String serverVersion() {
        String info = call(j -> {
            if (j instanceof JedisCluster cluster) {
                for (ConnectionPool pool : cluster.getClusterNodes().values()) {
                    try (Jedis node = new Jedis(pool.getResource())) {
                        return node.info("server");
                    }
                }
                return "";
            }
            return redis.clients.jedis.util.SafeEncoder.encode((byte[]) j.sendCommand(redis.clients.jedis.Protocol.Command.INFO, "server"));
        });
        for (String line : info.split("\r?\n")) {
            if (line.startsWith("redis_version:")) {
                return line.substring("redis_version:".length()).strip();
            }
        }
        return "unknown";
    }

    public void ping() {
        call(j -> {
            ClusterRoutes r = routes;
            if (r != null) {
                r.pingMasters();
            } else {
                j.ping();
            }
            return null;
        });
    }

    /** One call of a script, by its SHA; where the server answers NOSCRIPT the script is loaded and called again. */
    public Object run(LuaScript s, List<String> keys, List<String> args) {
        return call(j -> {
            ClusterRoutes r = routes;
            if (r != null) {
                return r.evalsha(s, keys, args, null);
            }
            try {
                return j.evalsha(s.sha(), keys, args);
            } catch (JedisDataException ex) {
                if (!isNoScript(ex)) {
                    throw ex;
                }
                // loaded where the first key lives: on a cluster that is the node the call goes to
                j.scriptLoad(s.text(), keys.get(0));
                return j.evalsha(s.sha(), keys, args);
            }
        });
    }

    /**
     * Many calls of a script in one pipeline (per node on a cluster, where each call must keep to
     * one slot), replies in call order. A call a server answered NOSCRIPT did not run: it is made
     * again alone with {@link #run}, which loads the script there. On a cluster, so is a call whose
     * slot moved (MOVED: the slot map is read again) or is being migrated (ASK), or whose node went
     * away before it answered: the rest of the batch stands, so one moved slot never holds up others.
     */
    public List<Object> runAll(LuaScript s, List<ScriptCall> calls) {
        return runAll(java.util.Collections.nCopies(calls.size(), s), calls);
    }

    /** As {@link #runAll(LuaScript, List)}, call i being of scripts.get(i): several scripts in one round trip. */
    public List<Object> runAll(List<LuaScript> scripts, List<ScriptCall> calls) {
        List<Object> replies = call(j -> {
            List<Response<Object>> rs = new ArrayList<>(calls.size());
            try (PipelineBase p = j.pipelined()) {
                for (int i = 0; i < calls.size(); i++) {
                    ScriptCall c = calls.get(i);
                    rs.add(p.evalsha(scripts.get(i).sha(), c.keys(), c.args()));
                }
                p.sync();
            }
            List<Object> values = new ArrayList<>(rs.size());
            for (Response<Object> r : rs) {
                try {
                    values.add(r.get());
                } catch (JedisDataException ex) {
                    values.add(ex);
                } catch (IllegalStateException unanswered) {
                    // a cluster pipeline leaves the calls of a node whose connection broke unanswered
                    values.add(UNANSWERED);
                }
            }
            return values;
        });
        ClusterRoutes routes = this.routes;
        if (routes != null) {
            redoRedirected(routes, scripts, calls, replies);
        }
        for (int i = 0; i < replies.size(); i++) {
            if (replies.get(i) instanceof JedisDataException ex) {
                if (ex instanceof JedisClusterException || ex instanceof JedisRedirectionException) {
                    // CLUSTERDOWN in a reply, or a slot still moving after every hop: the side is not answering
                    refreshRoutes();
                    throw unavailable(ex);
                }
                if (!isNoScript(ex)) {
                    throw denied(ex);
                }
                // the script is not on that server (yet): load it there and redo this call alone;
                // compare-and-set makes running it again harmless
                ScriptCall c = calls.get(i);
                replies.set(i, run(scripts.get(i), c.keys(), c.args()));
            }
        }
        return replies;
    }

    private static final Object UNANSWERED = new Object();

    /**
     * Makes again, each alone where its slot is now, the calls of a cluster pipeline that were
     * redirected, unanswered or met a node without the script; compare-and-set makes running one
     * again harmless.
     */
    private void redoRedirected(ClusterRoutes routes, List<LuaScript> scripts, List<ScriptCall> calls, List<Object> replies) {
        boolean refreshed = false;
        for (int i = 0; i < replies.size(); i++) {
            Object reply = replies.get(i);
            boolean redo = reply == UNANSWERED || reply instanceof JedisRedirectionException
                    || (reply instanceof JedisDataException ex && isNoScript(ex));
            if (!redo) {
                continue;
            }
            if (!refreshed && (reply == UNANSWERED || reply instanceof JedisMovedDataException)) {
                // once for the batch: every call redirected by the same move then goes straight there
                routes.refresh();
                refreshed = true;
            }
            ScriptCall c = calls.get(i);
            LuaScript s = scripts.get(i);
            JedisRedirectionException redirect = reply instanceof JedisRedirectionException r ? r : null;
            replies.set(i, call(j -> routes.evalsha(s, c.keys(), c.args(), redirect)));
        }
    }

    static boolean isNoScript(JedisDataException ex) {
        return ex instanceof JedisNoScriptException
                || (ex.getMessage() != null && ex.getMessage().startsWith("NOSCRIPT"));
    }

    /**
     * Runs a call against this side, turning a connection failure into exit 69 naming the side; on
     * a cluster also a cluster that is down or that jedis gave up on, after reading its slot map
     * again (a promoted replica is then where the next call goes).
     */
    <T> T call(Function<UnifiedJedis, T> f) {
        try {
            return f.apply(client());
        } catch (JedisConnectionException | JedisClusterOperationException | JedisClusterException
                 | JedisRedirectionException e) {
            // JedisClusterException: CLUSTERDOWN, a slot without a master that answers; a
            // redirection: a slot that kept moving for every hop allowed
            refreshRoutes();
            throw unavailable(e);
        } catch (JedisDataException e) {
            throw denied(e);
        }
    }

    private void refreshRoutes() {
        ClusterRoutes r = routes;
        if (r != null) {
            try {
                r.refresh();
            } catch (RuntimeException ignored) {
                // the failure at hand is what the caller reports
            }
        }
    }

    /**
     * A command the side's ACL user may not run, or a key it may not touch, as exit 77 naming the
     * command and the rules rpctl needs; any other reply error comes back unchanged.
     */
    RuntimeException denied(JedisDataException e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        int at = m.indexOf("NOPERM");
        if (at < 0) {
            return e;
        }
        Matcher c = NOPERM_COMMAND.matcher(m);
        String what = c.find() ? "may not run " + c.group(1).toUpperCase(java.util.Locale.ROOT)
                : m.contains("key") ? "may not touch one of the keys" : "is refused";
        String user = settings.user().isBlank() ? "default" : settings.user();
        return new RpctlException(ExitCode.NOPERM, "redis side " + name + " at " + address + ": user '" + user + "' "
                + what + " (" + RpctlException.oneLine(m.substring(at)) + "); give it the ACL rules of README"
                + " 'Security' (ACL SETUSER " + user + " ...)", e);
    }

    private static final Pattern NOPERM_COMMAND = Pattern.compile("run the '([^']+)' command");

    RpctlException unavailable(Throwable e) {
        return failedToConnect(e);
    }

    UnifiedJedis client() {
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

    /** TLS for every connection of this side, sentinels included: the side's CA, host name check, client certificate. */
    private DefaultJedisClientConfig.Builder tls(DefaultJedisClientConfig.Builder b) {
        TlsSettings t = settings.tls();
        if (t.on()) {
            SSLContext ctx;
            synchronized (this) {
                if (sslContext == null) {
                    sslContext = Tls.context(t);
                }
                ctx = sslContext;
            }
            b.ssl(true).sslSocketFactory(ctx.getSocketFactory()).sslParameters(Tls.parameters(t));
        }
        return b;
    }

    /**
     * A connection failure as the operator should see it: a certificate that does not verify is a
     * configuration problem (78), anything else the side being unreachable (69).
     */
    private RpctlException failedToConnect(Throwable e) {
        RpctlException refused = Tls.refused(settings.tls(), "redis side " + name, address, e);
        if (refused == null) {
            HostPort first = settings.nodes().get(0);
            refused = Tls.clientCertificateRefused(settings.tls(), "redis side " + name, address, first.host(), first.port(),
                    (int) Math.min(2000, settings.timeout().toMillis()), e);
        }
        return refused != null ? refused : RpctlException.unavailable("redis side " + name, address, e);
    }

    private DefaultJedisClientConfig.Builder clientConfig(int connectTimeoutMillis) {
        DefaultJedisClientConfig.Builder b = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(connectTimeoutMillis).socketTimeoutMillis((int) settings.timeout().toMillis())
                .clientName("rpctl-" + name);
        tls(b);
        if (!settings.user().isBlank()) {
            b.user(settings.user());
        }
        if (!settings.password().isBlank()) {
            b.password(settings.password());
        }
        return b;
    }

    /**
     * A connection of its own to this single Redis, outside the pool. Connecting and its handshake
     * take at most timeout; opened gets the socket as soon as it exists, so that another thread
     * can close it to stop a handshake a hung server never answers.
     */
    DirectLink openLink(Duration timeout, Consumer<Socket> opened) {
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
            return new DirectLink(sockets, config);
        } catch (JedisConnectionException e) {
            throw unavailable(e);
        }
    }

    /** The failure of the first node that refuses a connection of its own (a certificate, a login), or {@code e}. */
    private RuntimeException whyNoNodeAnswers(Set<HostAndPort> nodes, JedisClientConfig config, RuntimeException e) {
        if (settings.tls().on()) {
            for (HostAndPort node : nodes) {
                try (Connection c = new Connection(node, config)) {
                    c.ping();
                } catch (JedisException probe) {
                    RpctlException refused = Tls.refused(settings.tls(), "redis side " + name, address, probe);
                    if (refused != null) {
                        return refused;
                    }
                }
            }
        }
        return e;
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
                case CLUSTER -> {
                    ClusterConnectionProvider provider;
                    try {
                        provider = new ClusterConnectionProvider(nodes, b.build(), pool);
                    } catch (JedisClusterOperationException e) {
                        // "could not initialize cluster slots cache" drops why: a node asked alone says it
                        throw whyNoNodeAnswers(nodes, b.build(), e);
                    }
                    routes = new ClusterRoutes(provider, name);
                    yield new JedisCluster(provider, 5, Duration.ofMillis(timeout * 5L));
                }
                case SENTINEL -> {
                    JedisClientConfig sentinelConfig = tls(DefaultJedisClientConfig.builder()
                            .connectionTimeoutMillis(timeout).socketTimeoutMillis(timeout)).build();
                    try {
                        yield new JedisSentineled(settings.masterName(), b.database(settings.database()).build(), pool,
                                nodes, sentinelConfig);
                    } catch (JedisException e) {
                        // "All sentinels down" drops why: a sentinel asked alone says it (a certificate, a login)
                        throw whyNoNodeAnswers(nodes, sentinelConfig, e);
                    }
                }
            };
        } catch (JedisException e) {
            throw unavailable(e);
        }
    }

    @Override
    public void close() {
        ClusterRoutes r = routes;
        if (r != null) {
            r.close();
        }
        UnifiedJedis c = client;
        if (c != null) {
            c.close();
        }
    }
}
