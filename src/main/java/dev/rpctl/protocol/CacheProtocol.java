package dev.rpctl.protocol;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.DirectLink;
import dev.rpctl.cache.KeyScan;
import dev.rpctl.cache.LuaScript;
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

    /**
     * One compare-and-set of a batch, and whose claim it is: a row entry also adds its user to the
     * activity's Bloom filter, in the same round trip (ids -1: the key's owner is not known, and
     * nothing is added).
     */
    public record Write(String key, Entry entry, long activityId, long userId) {
        public Write(String key, Entry entry) {
            this(key, entry, -1, -1);
        }
    }

    /**
     * Keys one compare-and-set call takes on a single Redis: enough to amortise the call, few
     * enough that one call never holds the server for long.
     */
    static final int CAS_GROUP = 64;

    private final MappingSettings mapping;
    /** The key template cut at its placeholders: literal, placeholder, literal, ... */
    private final String[] keyParts;
    private final BloomFilters blooms;
    private final java.util.regex.Pattern keyRegex;

    public CacheProtocol(MappingSettings mapping) {
        this.mapping = mapping;
        this.keyParts = mapping.keyTemplate().split("(?=<activity>|<user>)|(?<=<activity>|<user>)", -1);
        this.blooms = new BloomFilters(activity -> fill(Long.toString(activity), "bloom"));
        StringBuilder re = new StringBuilder();
        boolean activity = false;
        boolean user = false;
        for (String part : keyParts) {
            switch (part) {
                // a placeholder met again must repeat what it matched the first time
                case "<activity>" -> re.append(activity ? "\\k<a>" : "(?<a>[0-9]{1,19})");
                case "<user>" -> re.append(user ? "\\k<u>" : "(?<u>[0-9]{1,19})");
                default -> re.append(java.util.regex.Pattern.quote(part));
            }
            activity |= part.equals("<activity>");
            user |= part.equals("<user>");
        }
        this.keyRegex = java.util.regex.Pattern.compile(re.toString());
    }

    public BloomFilters blooms() {
        return blooms;
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

    /** The template with its placeholders filled by the given text. */
    private String fill(String activity, String user) {
        StringBuilder sb = new StringBuilder(mapping.keyTemplate().length() + 24);
        for (String part : keyParts) {
            switch (part) {
                case "<activity>" -> sb.append(activity);
                case "<user>" -> sb.append(user);
                default -> sb.append(part);
            }
        }
        return sb.toString();
    }

    /** The activity and user ids of a claim key, or null for a key that is not one (a Bloom filter, another app's). */
    public long[] ids(String key) {
        java.util.regex.Matcher m = keyRegex.matcher(key);
        if (!m.matches()) {
            return null;
        }
        try {
            return new long[] {Long.parseLong(m.group("a")), Long.parseLong(m.group("u"))};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The SCAN pattern of the claim keys of one activity (0: of every activity); glob characters of the template escaped. */
    public String scanPattern(long activityId) {
        StringBuilder sb = new StringBuilder();
        for (String part : keyParts) {
            switch (part) {
                case "<activity>" -> sb.append(activityId > 0 ? Long.toString(activityId) : "*");
                case "<user>" -> sb.append('*');
                default -> sb.append(KeyScan.literal(part));
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
        return outcomes(ScriptLog.run(side, Scripts.CAS, List.of(key), List.of(e.encode(), Long.toString(ttlMillis(e))))).get(0);
    }

    /** One write, its Bloom filter add included; see {@link #putAll}. */
    public CasOutcome put(CacheSide side, Write w) {
        return putAll(side, List.of(w)).get(0);
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
        Calls calls = calls(writes, side.cluster() ? 1 : CAS_GROUP, side.name());
        List<Object> replies = ScriptLog.runAll(side, calls.scripts, calls.calls);
        for (int i = 0; i < calls.cas; i++) {
            out.addAll(outcomes(replies.get(i)));
        }
        learn(side.name(), calls, replies);
        return out;
    }

    /** Compare-and-sets on the wire, and which activities' Bloom filter adds follow them. */
    public record Sent(DirectLink.Sent onWire, String side, Calls calls) {}

    /**
     * Writes compare-and-sets of many keys to a link and puts them on the wire without waiting:
     * {@link #receive} reads their outcomes. Calls of up to {@value #CAS_GROUP} keys each, as in
     * {@link #putAll} on a single Redis.
     */
    public Sent send(CacheSide side, DirectLink link, List<Write> writes) {
        Calls calls = calls(writes, CAS_GROUP, side.name());
        return new Sent(link.send(calls.scripts, calls.calls), side.name(), calls);
    }

    /** The outcomes of what {@link #send} wrote, in input order, each reply read within timeoutMillis. */
    public List<CasOutcome> receive(DirectLink link, Sent sent, int timeoutMillis) {
        List<Object> replies = link.receive(sent.onWire(), timeoutMillis);
        ScriptLog.calls(sent.side(), sent.calls().scripts(), sent.calls().calls(), replies);
        if (replies.size() == 1) {
            return outcomes(replies.get(0));
        }
        List<CasOutcome> out = new ArrayList<>();
        for (int i = 0; i < sent.calls().cas; i++) {
            out.addAll(outcomes(replies.get(i)));
        }
        learn(sent.side(), sent.calls(), replies);
        return out;
    }

    /**
     * How long a side is taken to have no Bloom filter for an activity after an add found none:
     * adds to it are left out meanwhile (one script call a batch less). A build waits longer than
     * this between starting a filter and reading the table ({@link BloomFilters#SETTLE}), so any
     * write after the table read adds its claimer.
     */
    static final long NO_FILTER_NANOS = 1_000_000_000L;
    private final java.util.concurrent.ConcurrentHashMap<String, Long> noFilterUntil = new java.util.concurrent.ConcurrentHashMap<>();

    private boolean knownWithoutFilter(String side, long activity) {
        Long until = noFilterUntil.get(side + "/" + activity);
        return until != null && System.nanoTime() - until < 0;
    }

    /** What the Bloom filter adds answered: 0, the activity has no filter on that side (for a second). */
    private void learn(String side, Calls calls, List<Object> replies) {
        for (int i = calls.cas; i < replies.size(); i++) {
            String key = side + "/" + calls.activities.get(i - calls.cas);
            if (Long.valueOf(0).equals(replies.get(i))) {
                if (noFilterUntil.size() > 10_000) {
                    noFilterUntil.clear();
                }
                noFilterUntil.put(key, calls.madeNanos + NO_FILTER_NANOS);
            } else {
                noFilterUntil.remove(key);
            }
        }
    }

    /**
     * Reads the entry or, on a miss, takes a lease. Returns null when the caller holds the lease
     * and should read the primary and {@link #fill}; otherwise the raw current value.
     */
    public String readOrLease(CacheSide side, String key, String token) {
        return (String) ScriptLog.run(side, Scripts.LEASE, List.of(key), List.of(token, Long.toString(mapping.leaseTtl().toMillis())));
    }

    /**
     * {@link #readOrLease}, asking the activity's Bloom filter on a miss first: a user who is
     * certainly not a claimer gets a placeholder and the answer "P|0" without a lease. One script
     * on a single Redis; on a Cluster (where the filter may be on another node) the filter is
     * asked first, then the lease is taken.
     */
    public String readOrLease(CacheSide side, String key, String token, long activityId, long userId) {
        String lease = Long.toString(mapping.leaseTtl().toMillis());
        if (!side.cluster()) {
            return (String) ScriptLog.run(side, Scripts.LEASE_BLOOM, List.of(key, blooms.key(activityId)), List.of(token, lease,
                    Long.toString(userId), Long.toString(mapping.placeholderTtl().toMillis())));
        }
        if (blooms.check(side, activityId, List.of(userId)).get(0) == BloomFilters.Answer.NOT_A_CLAIMER) {
            put(side, key, Entry.placeholder());
            return Entry.placeholder().encode();
        }
        return readOrLease(side, key, token);
    }

    /** Fills a key under the caller's lease; false when the lease was replaced or expired. */
    public boolean fill(CacheSide side, String key, String token, Entry e) {
        Object r = ScriptLog.run(side, Scripts.FILL, List.of(key), List.of(token, e.encode(), Long.toString(ttlMillis(e))));
        return ((Long) r) == 1L;
    }

    /**
     * Replaces exactly {@code expectedRaw} (null for absent) by the entry, or deletes it when the
     * entry is null. For repairs of values the compare-and-set cannot order (undecodable, ahead of
     * the primary, same version with other content).
     */
    public boolean swap(CacheSide side, String key, String expectedRaw, Entry e) {
        Object r = ScriptLog.run(side, Scripts.SWAP, List.of(key), List.of(expectedRaw == null ? "" : expectedRaw,
                e == null ? "" : e.encode(), Long.toString(e == null ? 0 : ttlMillis(e))));
        return ((Long) r) == 1L;
    }

    /**
     * Puts a write where its compare-and-set met an undecodable value (sync.on-bad-data warn or
     * skip): swaps exactly the value read for the write's entry or, where a writer replaced that
     * value meanwhile, makes the compare-and-set again. UNDECODABLE when the key still held an
     * undecodable value after a few tries (something keeps writing such values there).
     */
    public CasOutcome replaceUndecodable(CacheSide side, String key, Entry e) {
        for (int i = 0; i < 3; i++) {
            String raw = side.get(key);
            if (raw != null && !decodes(raw)) {
                if (swap(side, key, raw, e)) {
                    return CasOutcome.WRITTEN;
                }
            } else {
                CasOutcome o = put(side, key, e);
                if (o != CasOutcome.UNDECODABLE) {
                    return o;
                }
            }
        }
        return CasOutcome.UNDECODABLE;
    }

    /** Whether a raw value is an entry. */
    public static boolean decodes(String raw) {
        try {
            Entry.decode(raw);
            return true;
        } catch (UndecodableEntryException e) {
            return false;
        }
    }

    /**
     * Script calls of a batch: {@code cas} compare-and-set calls first, then the Bloom filter adds,
     * add i being for activities.get(i).
     */
    public record Calls(List<LuaScript> scripts, List<ScriptCall> calls, int cas, List<Long> activities, long madeNanos) {}

    private Calls calls(List<Write> writes, int size, String side) {
        List<ScriptCall> calls = casCalls(writes, size);
        int cas = calls.size();
        // the users of row entries, per activity: a claimer is in the filter once its entry is written
        java.util.Map<Long, List<Long>> users = null;
        for (Write w : writes) {
            if (w.userId() >= 0 && w.entry().kind() == Entry.Kind.ROW) {
                if (users == null) {
                    users = new java.util.LinkedHashMap<>();
                }
                users.computeIfAbsent(w.activityId(), a -> new ArrayList<>()).add(w.userId());
            }
        }
        List<Long> activities = new ArrayList<>();
        if (users != null) {
            for (java.util.Map.Entry<Long, List<Long>> e : users.entrySet()) {
                if (knownWithoutFilter(side, e.getKey())) {
                    continue;
                }
                long[] us = e.getValue().stream().mapToLong(Long::longValue).toArray();
                for (ScriptCall c : blooms.addCalls(e.getKey(), us, 0, us.length)) {
                    calls.add(c);
                    activities.add(e.getKey());
                }
            }
        }
        List<LuaScript> scripts = new ArrayList<>(calls.size());
        for (int i = 0; i < calls.size(); i++) {
            scripts.add(i < cas ? Scripts.CAS : Scripts.BLOOM_ADD);
        }
        // the time before the adds are sent: "no filter" counts from when the server could last have said so
        return new Calls(scripts, calls, cas, activities, System.nanoTime());
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
