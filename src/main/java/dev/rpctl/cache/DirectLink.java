package dev.rpctl.cache;

import redis.clients.jedis.CommandObjects;
import redis.clients.jedis.Connection;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisSocketFactory;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;

/**
 * One connection of its own to a single Redis, on which script calls are written and flushed at
 * once and their replies read later: a caller can put its writes on the wire to two servers
 * before it waits for either. Lent by {@link DirectLinks}; not for concurrent use.
 */
public final class DirectLink implements AutoCloseable {
    private static final CommandObjects COMMANDS = new CommandObjects();

    private final Wire wire;

    /** Script calls written to a link whose replies are not read yet. */
    public static final class Sent {
        private final List<LuaScript> scripts;
        private final List<ScriptCall> calls;

        private Sent(List<LuaScript> scripts, List<ScriptCall> calls) {
            this.scripts = scripts;
            this.calls = calls;
        }
    }

    /** No reply within the time given: the server may be hung, and the link still owes replies. */
    public static final class TimedOut extends RuntimeException {
        TimedOut(RuntimeException e) {
            super(e.getMessage(), e);
        }
    }

    DirectLink(JedisSocketFactory sockets, JedisClientConfig config) {
        this.wire = new Wire(sockets, config);
    }

    /** Writes the calls and puts them on the wire, without reading any reply. */
    public Sent send(LuaScript s, List<ScriptCall> calls) {
        return send(java.util.Collections.nCopies(calls.size(), s), calls);
    }

    /** As {@link #send(LuaScript, List)}, call i being of scripts.get(i). */
    public Sent send(List<LuaScript> scripts, List<ScriptCall> calls) {
        for (int i = 0; i < calls.size(); i++) {
            ScriptCall c = calls.get(i);
            wire.sendCommand(COMMANDS.evalsha(scripts.get(i).sha(), c.keys(), c.args()).getArguments());
        }
        wire.flush();
        return new Sent(scripts, calls);
    }

    /**
     * The replies of what {@link #send} wrote, in call order, each read within timeoutMillis. A
     * server without the script (restarted, failed over) gets it loaded and the call made again;
     * compare-and-set makes that harmless.
     */
    public List<Object> receive(Sent sent, int timeoutMillis) {
        try {
            wire.setSoTimeout(timeoutMillis);
            List<Object> replies = new ArrayList<>(sent.calls.size());
            for (int i = 0; i < sent.calls.size(); i++) {
                try {
                    replies.add(wire.getOne());
                } catch (JedisDataException ex) {
                    // an error reply: the replies after it are still on the wire, read them all first
                    replies.add(ex);
                }
            }
            for (int i = 0; i < replies.size(); i++) {
                if (replies.get(i) instanceof JedisDataException ex) {
                    if (!CacheSide.isNoScript(ex)) {
                        throw ex;
                    }
                    ScriptCall c = sent.calls.get(i);
                    LuaScript s = sent.scripts.get(i);
                    wire.executeCommand(COMMANDS.scriptLoad(s.text()));
                    replies.set(i, wire.executeCommand(COMMANDS.evalsha(s.sha(), c.keys(), c.args())));
                }
            }
            return replies;
        } catch (JedisConnectionException e) {
            if (e.getCause() instanceof SocketTimeoutException) {
                throw new TimedOut(e);
            }
            throw e;
        }
    }

    @Override
    public void close() {
        wire.close();
    }

    /** The Jedis connection, whose flush() is what puts written commands on the wire. */
    private static final class Wire extends Connection {
        Wire(JedisSocketFactory sockets, JedisClientConfig config) {
            super(sockets, config);
        }

        @Override
        public void flush() {
            super.flush();
        }
    }
}
