package dev.rpctl.protocol;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.config.MappingSettings;
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
 * All scripts touch one key, so they run unchanged on a Redis Cluster.
 */
public final class CacheProtocol {

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

    private final MappingSettings mapping;

    public CacheProtocol(MappingSettings mapping) {
        this.mapping = mapping;
    }

    public String key(long activityId, long userId) {
        return mapping.claimKey(activityId, userId);
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
        return outcome(eval(side, Script.CAS, key, casArgs(e)));
    }

    /** Many compare-and-sets in one pipeline (per node on a cluster); outcomes in input order. */
    public List<Outcome> putAll(CacheSide side, List<Write> writes) {
        List<Outcome> out = new ArrayList<>(writes.size());
        if (writes.isEmpty()) {
            return out;
        }
        List<Object> replies = side.call(j -> {
            List<Response<Object>> rs = new ArrayList<>(writes.size());
            try (PipelineBase p = j.pipelined()) {
                for (Write w : writes) {
                    rs.add(p.evalsha(Script.CAS.sha, List.of(w.key()), casArgs(w.entry())));
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
        for (int i = 0; i < writes.size(); i++) {
            Object r = replies.get(i);
            if (r instanceof JedisDataException ex) {
                if (!isNoScript(ex)) {
                    throw ex;
                }
                // the script is not on that node (yet): load it there and redo this write alone;
                // compare-and-set makes running it again harmless
                Write w = writes.get(i);
                r = eval(side, Script.CAS, w.key(), casArgs(w.entry()));
            }
            out.add(outcome(r));
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

    private List<String> casArgs(Entry e) {
        return List.of(e.encode(), Long.toString(e.rank()), Long.toString(ttlMillis(e)));
    }

    private Object eval(CacheSide side, Script s, String key, List<String> args) {
        List<String> finalArgs = args;
        return side.call(j -> {
            try {
                return j.evalsha(s.sha, List.of(key), finalArgs);
            } catch (JedisNoScriptException ex) {
                j.scriptLoad(s.text, key);
                return j.evalsha(s.sha, List.of(key), finalArgs);
            } catch (JedisDataException ex) {
                if (!isNoScript(ex)) {
                    throw ex;
                }
                j.scriptLoad(s.text, key);
                return j.evalsha(s.sha, List.of(key), finalArgs);
            }
        });
    }

    private static boolean isNoScript(JedisDataException ex) {
        return ex instanceof JedisNoScriptException || (ex.getMessage() != null && ex.getMessage().startsWith("NOSCRIPT"));
    }

    private static Outcome outcome(Object r) {
        long v = (Long) r;
        return v == 1 ? Outcome.WRITTEN : v == 0 ? Outcome.KEPT : Outcome.UNDECODABLE;
    }
}
