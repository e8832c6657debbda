package dev.rpctl.protocol;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.DirectLink;
import dev.rpctl.cache.ScriptCall;
import dev.rpctl.config.MappingSettings;

import java.util.ArrayList;
import java.util.List;

/**
 * The only writer of cache entries: what each write is (its key, entry, TTL and script), while
 * {@link CacheSide} carries it. Every write is one of the {@link Scripts}, a compare-and-set
 * unless it is a reader's lease and fill or a repair's swap. On a Redis Cluster every call
 * touches one key; on a single Redis a batch of compare-and-sets goes in calls of several keys each.
 */
public final class CacheProtocol {

    /** One compare-and-set of a batch. */
    public record Write(String key, Entry entry) {}

    /**
     * Keys one compare-and-set call takes on a single Redis: enough to amortise the call, few
     * enough that one call never holds the server for long.
     */
    static final int CAS_GROUP = 64;

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
    public CasOutcome put(CacheSide side, String key, Entry e) {
        return outcomes(side.run(Scripts.CAS, List.of(key), List.of(e.encode(), Long.toString(ttlMillis(e))))).get(0);
    }

    /**
     * Many compare-and-sets in one pipeline, outcomes in input order. On a single Redis one
     * script call takes up to {@value #CAS_GROUP} keys; on a cluster (where a call may only
     * touch one slot) every key is its own call, pipelined per node.
     */
    public List<CasOutcome> putAll(CacheSide side, List<Write> writes) {
        List<CasOutcome> out = new ArrayList<>(writes.size());
        if (writes.isEmpty()) {
            return out;
        }
        for (Object reply : side.runAll(Scripts.CAS, casCalls(writes, side.cluster() ? 1 : CAS_GROUP))) {
            out.addAll(outcomes(reply));
        }
        return out;
    }

    /**
     * Writes compare-and-sets of many keys to a link and puts them on the wire without waiting:
     * {@link #receive} reads their outcomes. Calls of up to {@value #CAS_GROUP} keys each, as in
     * {@link #putAll} on a single Redis.
     */
    public DirectLink.Sent send(DirectLink link, List<Write> writes) {
        return link.send(Scripts.CAS, casCalls(writes, CAS_GROUP));
    }

    /** The outcomes of what {@link #send} wrote, in input order, each reply read within timeoutMillis. */
    public List<CasOutcome> receive(DirectLink link, DirectLink.Sent sent, int timeoutMillis) {
        List<Object> replies = link.receive(sent, timeoutMillis);
        if (replies.size() == 1) {
            return outcomes(replies.get(0));
        }
        List<CasOutcome> out = new ArrayList<>();
        for (Object reply : replies) {
            out.addAll(outcomes(reply));
        }
        return out;
    }

    /**
     * Reads the entry or, on a miss, takes a lease. Returns null when the caller holds the lease
     * and should read the primary and {@link #fill}; otherwise the raw current value.
     */
    public String readOrLease(CacheSide side, String key, String token) {
        return (String) side.run(Scripts.LEASE, List.of(key), List.of(token, Long.toString(mapping.leaseTtl().toMillis())));
    }

    /** Fills a key under the caller's lease; false when the lease was replaced or expired. */
    public boolean fill(CacheSide side, String key, String token, Entry e) {
        Object r = side.run(Scripts.FILL, List.of(key), List.of(token, e.encode(), Long.toString(ttlMillis(e))));
        return ((Long) r) == 1L;
    }

    /**
     * Replaces exactly {@code expectedRaw} (null for absent) by the entry, or deletes it when the
     * entry is null. For repairs of values the compare-and-set cannot order (undecodable, ahead of
     * the primary, same version with other content).
     */
    public boolean swap(CacheSide side, String key, String expectedRaw, Entry e) {
        Object r = side.run(Scripts.SWAP, List.of(key), List.of(expectedRaw == null ? "" : expectedRaw,
                e == null ? "" : e.encode(), Long.toString(e == null ? 0 : ttlMillis(e))));
        return ((Long) r) == 1L;
    }

    /** The writes as compare-and-set calls of up to size keys each. */
    private List<ScriptCall> casCalls(List<Write> writes, int size) {
        List<ScriptCall> calls = new ArrayList<>((writes.size() + size - 1) / size);
        for (int from = 0; from < writes.size(); from += size) {
            int to = Math.min(writes.size(), from + size);
            List<String> keys = new ArrayList<>(to - from);
            List<String> args = new ArrayList<>((to - from) * 2);
            for (int i = from; i < to; i++) {
                Write w = writes.get(i);
                keys.add(w.key());
                // the script reads the kind and version from the value itself
                args.add(w.entry().encode());
                args.add(Long.toString(ttlMillis(w.entry())));
            }
            calls.add(new ScriptCall(keys, args));
        }
        return calls;
    }

    private static List<CasOutcome> outcomes(Object reply) {
        List<?> codes = (List<?>) reply;
        List<CasOutcome> out = new ArrayList<>(codes.size());
        for (Object c : codes) {
            long v = (Long) c;
            if (v == -2) {
                // Entry.encode wrote something cas.lua cannot read: a defect, not a cache state
                throw new IllegalStateException("cas.lua refused a value rpctl encoded");
            }
            out.add(v == 1 ? CasOutcome.WRITTEN : v == 0 ? CasOutcome.KEPT : CasOutcome.UNDECODABLE);
        }
        return out;
    }
}
