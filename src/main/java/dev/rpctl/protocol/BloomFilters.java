package dev.rpctl.protocol;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.ScriptCall;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-activity Bloom filters of claimers, one per side, on plain Redis (a string of bits and the
 * scripts bloom_*.lua). A reader that misses asks the filter before the database: "certainly
 * not a claimer" answers "no claim" at once. Every compare-and-set of a row entry (a claim's
 * write-through, the sync daemon, warm) adds its user in the same round trip, before the
 * write-through is answered, so a side the write-through reaches has no false negative; a side it
 * misses lacks the bit, as it lacks the entry, until its sync pipeline applies the row. A false
 * positive only costs a primary read. A filter is used only once 'warm --bloom' has put every
 * claimer of the table in it.
 */
public final class BloomFilters {

    /** A filter's size: bits and hash functions. */
    public record Size(long bits, int hashes) {
        /** The size for n claimers at false-positive rate p: m = -n ln p / (ln 2)^2, k = m/n ln 2. */
        public static Size of(long n, double p) {
            long claimers = Math.max(1, n);
            double m = Math.ceil(-claimers * Math.log(p) / (Math.log(2) * Math.log(2)));
            // one Redis string holds at most 2^32 bits after the header
            long bits = (long) Math.min(Math.max(64, m), (1L << 32) - 512);
            int hashes = (int) Math.max(1, Math.min(16, Math.round(bits / (double) claimers * Math.log(2))));
            return new Size(bits, hashes);
        }
    }

    /** What a filter says of a user. */
    public enum Answer { NO_FILTER, MAYBE, NOT_A_CLAIMER }

    /**
     * How long a build waits between starting a filter and reading the table: longer than a
     * writer takes a side to have no filter for an activity after an add found none, so every
     * write after the read adds its claimer.
     */
    public static final java.time.Duration SETTLE = java.time.Duration.ofNanos(CacheProtocol.NO_FILTER_NANOS + 500_000_000L);

    /** Users a call of bloom_add or bloom_check takes. */
    static final int USERS_PER_CALL = 500;

    private final java.util.function.LongFunction<String> keys;

    /** @param keys the filter's key of an activity */
    BloomFilters(java.util.function.LongFunction<String> keys) {
        this.keys = keys;
    }

    /** The filter of an activity: the key template with "bloom" for the user, so one slot on a Cluster. */
    public String key(long activityId) {
        return keys.apply(activityId);
    }

    /** Starts a filter of this size, building (readers do not use it yet), or keeps one of the same size; true when new. */
    public boolean start(CacheSide side, long activityId, Size size, Duration ttl) {
        Object r = ScriptLog.run(side, Scripts.BLOOM_INIT, List.of(key(activityId)),
                List.of(Long.toString(size.bits()), Integer.toString(size.hashes()), Long.toString(ttl.toMillis())));
        return ((Long) r) == 1L;
    }

    /** Marks the filter ready for readers; false when there is no filter of that size. */
    public boolean ready(CacheSide side, long activityId, Size size) {
        Object r = ScriptLog.run(side, Scripts.BLOOM_READY, List.of(key(activityId)),
                List.of(Long.toString(size.bits()), Integer.toString(size.hashes())));
        return ((Long) r) == 1L;
    }

    /** Adds claimers of one activity to its filter (nothing when it has none), in pipelined calls. */
    public void add(CacheSide side, long activityId, long[] users, int from, int to) {
        List<ScriptCall> calls = addCalls(activityId, users, from, to);
        if (!calls.isEmpty()) {
            ScriptLog.runAll(side, java.util.Collections.nCopies(calls.size(), Scripts.BLOOM_ADD), calls);
        }
    }

    /** What the filter says of each user; all NO_FILTER when the activity has no ready filter. */
    public List<Answer> check(CacheSide side, long activityId, List<Long> users) {
        List<Answer> out = new ArrayList<>(users.size());
        for (int from = 0; from < users.size(); from += USERS_PER_CALL) {
            List<Long> part = users.subList(from, Math.min(users.size(), from + USERS_PER_CALL));
            List<String> args = new ArrayList<>(part.size());
            for (long u : part) {
                args.add(Long.toString(u));
            }
            List<?> codes = (List<?>) ScriptLog.run(side, Scripts.BLOOM_CHECK, List.of(key(activityId)), args);
            for (int i = 0; i < part.size(); i++) {
                long c = codes.size() == part.size() ? (Long) codes.get(i) : 0L;
                out.add(c == 1 ? Answer.MAYBE : c == 2 ? Answer.NOT_A_CLAIMER : Answer.NO_FILTER);
            }
        }
        return out;
    }

    List<ScriptCall> addCalls(long activityId, long[] users, int from, int to) {
        List<ScriptCall> calls = new ArrayList<>();
        List<String> key = List.of(key(activityId));
        for (int i = from; i < to; i += USERS_PER_CALL) {
            List<String> args = new ArrayList<>(Math.min(USERS_PER_CALL, to - i));
            for (int j = i; j < Math.min(to, i + USERS_PER_CALL); j++) {
                args.add(Long.toString(users[j]));
            }
            calls.add(new ScriptCall(key, args));
        }
        return calls;
    }
}
