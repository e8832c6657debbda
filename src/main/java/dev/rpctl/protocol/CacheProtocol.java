package dev.rpctl.protocol;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.SideLink;
import dev.rpctl.config.MappingSettings;
import redis.clients.jedis.CommandObjects;
import redis.clients.jedis.PipelineBase;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The only writer of cache entries. Every write is one server-side script, called by SHA and
 * loaded again wherever a server answers NOSCRIPT (a restart, a failover, a new cluster node).
 * On a Redis Cluster every call touches one key; on a single Redis a batch of compare-and-sets
 * goes in calls of several keys each.
 */
public final class CacheProtocol {

    /** WRITTEN, KEPT (the entry there is as new or newer), UNDECODABLE (the entry there is not one; left alone). */
    public enum Outcome { WRITTEN, KEPT, UNDECODABLE }

    /** One compare-and-set of a batch. */
    public record Write(String key, Entry entry) {}

    enum Script {
        CAS("cas.lua"), LEASE("lease.lua"), FILL("fill.lua"), SWAP("swap.lua");

        final String text;
        final String sha;

        Script(String file) {
            try (InputStream in = CacheProtocol.class.getResourceAsStream(file)) {
                if (in == null) {
                    throw new IllegalStateException("missing script " + file);
                }
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
            } catch (IOException | NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * Keys one compare-and-set call takes on a single Redis: enough to amortise the call, few
     * enough that one call never holds the server for long.
     */
    static final int CAS_GROUP = 64;
    private static final CommandObjects COMMANDS = new CommandObjects();

    private final MappingSettings mapping;
    /** The key template cut at its placeholders: literal, placeholder, literal, ... */
    private final String[] keyParts;

    public CacheProtocol(MappingSettings mapping) {
        this.mapping = mapping;
        this.keyParts = mapping.keyTemplate().split("(?=<activity>|<user>)|(?<=<activity>|<user>)", -1);
    }

    /** The same key as {@link MappingSettings#claimKey}, without scanning the template each time. */
    public String key(long activityId, long userId) {
        StringBuilder sb = new StringBuilder(mapping.keyTemplate().length() + 24);
        for (String part : keyParts) {
            switch (part) {
                case "<activity>" -> sb.append(activityId);
                case "<user>" -> sb.append(userId);
                default -> sb.append(part);
            }
        }
        return sb.toString();
    }

    public long ttlMillis(Entry e) {
        return switch (e.kind()) {
            case ROW -> mapping.entryTtl().toMillis();
            case PLACEHOLDER -> mapping.placeholderTtl().toMillis();
            case TOMBSTONE -> mapping.tombstoneTtl().toMillis();
            case LEASE -> mapping.leaseTtl().toMillis();
        };
    }

    /** Writes the entry where the key is absent, a lease, or older. Equal versions are a no-op. */
    public Outcome put(CacheSide side, String key, Entry e) {
        return outcomes(eval(side, Script.CAS, List.of(key), casArgs(List.of(new Write(key, e))))).get(0);
    }

    /**
     * Many compare-and-sets in one pipeline, outcomes in input order. On a single Redis one
     * script call takes up to {@value #CAS_GROUP} keys; on a cluster (where a call may only
     * touch one slot) every key is its own call, pipelined per node.
     */
    public List<Outcome> putAll(CacheSide side, List<Write> writes) {
        List<Outcome> out = new ArrayList<>(writes.size());
        if (writes.isEmpty()) {
            return out;
        }
        List<List<Write>> groups = chunks(writes, side.cluster() ? 1 : CAS_GROUP);
        List<Object> replies = side.call(j -> {
            List<Response<Object>> rs = new ArrayList<>(groups.size());
            try (PipelineBase p = j.pipelined()) {
                for (List<Write> g : groups) {
                    rs.add(p.evalsha(Script.CAS.sha, keys(g), casArgs(g)));
                }
                p.sync();
            }
            List<Object> values = new ArrayList<>(rs.size());
            for (Response<Object> r : rs) {
                try {
                    values.add(r.get());
                } catch (JedisDataException ex) {
                    values.add(ex);
                }
            }
            return values;
        });
        for (int i = 0; i < groups.size(); i++) {
            Object r = replies.get(i);
            if (r instanceof JedisDataException ex) {
                if (!isNoScript(ex)) {
                    throw ex;
                }
                // the script is not on that server (yet): load it there and redo this call alone;
                // compare-and-set makes running it again harmless
                List<Write> g = groups.get(i);
                r = eval(side, Script.CAS, keys(g), casArgs(g));
            }
            out.addAll(outcomes(r));
        }
        return out;
    }

    /** Compare-and-set calls written to a link whose replies are not read yet. */
    public static final class Sent {
        private final List<List<Write>> groups;

        private Sent(List<List<Write>> groups) {
            this.groups = groups;
        }
    }

    /**
     * Writes compare-and-sets of many keys to a link and puts them on the wire without waiting:
     * {@link #receive} reads their outcomes. Calls of up to {@value #CAS_GROUP} keys each, as in
     * {@link #putAll} on a single Redis.
     */
    public Sent send(SideLink link, List<Write> writes) {
        List<List<Write>> groups = chunks(writes, CAS_GROUP);
        for (List<Write> g : groups) {
            link.sendCommand(COMMANDS.evalsha(Script.CAS.sha, keys(g), casArgs(g)).getArguments());
        }
        link.send();
        return new Sent(groups);
    }

    /**
     * The outcomes of what {@link #send} wrote, in input order, read within the link's socket
     * timeout. A server without the script (restarted, failed over) gets it loaded and the call
     * made again; compare-and-set makes that harmless.
     */
    public List<Outcome> receive(SideLink link, Sent sent) {
        List<Object> replies = new ArrayList<>(sent.groups.size());
        for (int i = 0; i < sent.groups.size(); i++) {
            try {
                replies.add(link.getOne());
            } catch (JedisDataException ex) {
                // an error reply: the replies after it are still on the wire, read them all first
                replies.add(ex);
            }
        }
        List<Outcome> out = new ArrayList<>();
        for (int i = 0; i < replies.size(); i++) {
            Object r = replies.get(i);
            if (r instanceof JedisDataException ex) {
                if (!isNoScript(ex)) {
                    throw ex;
                }
                List<Write> g = sent.groups.get(i);
                link.executeCommand(COMMANDS.scriptLoad(Script.CAS.text));
                r = link.executeCommand(COMMANDS.evalsha(Script.CAS.sha, keys(g), casArgs(g)));
            }
            out.addAll(outcomes(r));
        }
        return out;
    }

    /**
     * Reads the entry or, on a miss, takes a lease. Returns null when the caller holds the lease
     * and should read the primary and {@link #fill}; otherwise the raw current value.
     */
    public String readOrLease(CacheSide side, String key, String token) {
        Object r = eval(side, Script.LEASE, key, List.of(token, Long.toString(mapping.leaseTtl().toMillis())));
        return (String) r;
    }

    /** Fills a key under the caller's lease; false when the lease was replaced or expired. */
    public boolean fill(CacheSide side, String key, String token, Entry e) {
        Object r = eval(side, Script.FILL, key, List.of(token, e.encode(), Long.toString(ttlMillis(e))));
        return ((Long) r) == 1L;
    }

    /**
     * Replaces exactly {@code expectedRaw} (null for absent) by the entry, or deletes it when the
     * entry is null. For repairs of values the compare-and-set cannot order (undecodable, ahead of
     * the primary, same version with other content).
     */
    public boolean swap(CacheSide side, String key, String expectedRaw, Entry e) {
        Object r = eval(side, Script.SWAP, key, List.of(expectedRaw == null ? "" : expectedRaw,
                e == null ? "" : e.encode(), Long.toString(e == null ? 0 : ttlMillis(e))));
        return ((Long) r) == 1L;
    }

    /** The writes in calls of up to size keys each. */
    private static List<List<Write>> chunks(List<Write> writes, int size) {
        List<List<Write>> groups = new ArrayList<>((writes.size() + size - 1) / size);
        for (int i = 0; i < writes.size(); i += size) {
            groups.add(writes.subList(i, Math.min(writes.size(), i + size)));
        }
        return groups;
    }

    private static List<String> keys(List<Write> writes) {
        List<String> keys = new ArrayList<>(writes.size());
        for (Write w : writes) {
            keys.add(w.key());
        }
        return keys;
    }

    private List<String> casArgs(List<Write> writes) {
        List<String> args = new ArrayList<>(writes.size() * 2);
        for (Write w : writes) {
            // the script reads the kind and version from the value itself
            args.add(w.entry().encode());
            args.add(Long.toString(ttlMillis(w.entry())));
        }
        return args;
    }

    private Object eval(CacheSide side, Script s, String key, List<String> args) {
        return eval(side, s, List.of(key), args);
    }

    private Object eval(CacheSide side, Script s, List<String> keys, List<String> args) {
        return side.call(j -> {
            try {
                return j.evalsha(s.sha, keys, args);
            } catch (JedisDataException ex) {
                if (!isNoScript(ex)) {
                    throw ex;
                }
                // loaded where the first key lives: on a cluster that is the node the call goes to
                j.scriptLoad(s.text, keys.get(0));
                return j.evalsha(s.sha, keys, args);
            }
        });
    }

    private static boolean isNoScript(JedisDataException ex) {
        return ex instanceof JedisNoScriptException
                || (ex.getMessage() != null && ex.getMessage().startsWith("NOSCRIPT"));
    }

    private static List<Outcome> outcomes(Object reply) {
        List<?> codes = (List<?>) reply;
        List<Outcome> out = new ArrayList<>(codes.size());
        for (Object c : codes) {
            long v = (Long) c;
            if (v == -2) {
                // Entry.encode wrote something cas.lua cannot read: a defect, not a cache state
                throw new IllegalStateException("cas.lua refused a value rpctl encoded");
            }
            out.add(v == 1 ? Outcome.WRITTEN : v == 0 ? Outcome.KEPT : Outcome.UNDECODABLE);
        }
        return out;
    }
}
