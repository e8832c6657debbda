package dev.rpctl.claim;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.UndecodableEntryException;
import dev.rpctl.protocol.VersionOutOfRangeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * What an application calls to answer "has this user claimed, and how much?". Reads the local
 * side; a placeholder or tombstone answers "no claim" without touching the primary; a miss takes
 * a lease, reads the primary and fills under the lease. Concurrent misses of one key in this
 * process share one primary read.
 */
public final class ClaimReader {
    private static final Logger log = LoggerFactory.getLogger(ClaimReader.class);

    /** Where the answer came from. */
    public enum Source { CACHE, FILLED, PRIMARY }

    public record Read(Optional<ClaimRow> claim, Source source) {}

    private final CacheProtocol protocol;
    private final CacheSide side;
    private final ClaimRepository primary;
    private final ConcurrentHashMap<String, CompletableFuture<Read>> inFlight = new ConcurrentHashMap<>();
    private volatile Consumer<String> afterPrimaryRead = k -> { };
    private final AtomicLong uncacheable = new AtomicLong();

    public ClaimReader(CacheProtocol protocol, CacheSide side, ClaimRepository primary) {
        this.protocol = protocol;
        this.side = side;
        this.primary = primary;
    }

    /** Runs between the primary read and the fill; lets a test hold a reader at that point. */
    void afterPrimaryRead(Consumer<String> hook) {
        this.afterPrimaryRead = hook;
    }

    /** Primary reads of rows whose version no entry can carry (see Entry.MAX_VERSION). */
    public long uncacheable() {
        return uncacheable.get();
    }

    public Read read(long activityId, long userId) {
        String key = protocol.key(activityId, userId);
        Read hit = fromCache(activityId, userId, side.get(key));
        if (hit != null) {
            return hit;
        }
        CompletableFuture<Read> mine = new CompletableFuture<>();
        CompletableFuture<Read> theirs = inFlight.putIfAbsent(key, mine);
        if (theirs != null) {
            return theirs.join();
        }
        try {
            Read r = miss(activityId, userId, key);
            mine.complete(r);
            return r;
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }

    private Read miss(long activityId, long userId, String key) {
        String token = Long.toHexString(ThreadLocalRandom.current().nextLong());
        // a user the activity's Bloom filter certainly does not hold gets "no claim" and a placeholder here
        String current = protocol.readOrLease(side, key, token, activityId, userId);
        if (current != null) {
            Read r = fromCache(activityId, userId, current);
            if (r != null) {
                return r;
            }
            // another reader holds the lease: read the primary, leave the fill to that reader
            return new Read(primary.find(activityId, userId), Source.PRIMARY);
        }
        Optional<ClaimRow> row = primary.find(activityId, userId);
        afterPrimaryRead.accept(key);
        Entry fill;
        try {
            fill = row.map(Entry::row).orElseGet(Entry::placeholder);
        } catch (VersionOutOfRangeException e) {
            // no entry can order this row: answer it from the primary, and leave the lease to expire
            if (uncacheable.getAndIncrement() % 1000 == 0) {
                log.warn("{} of activity {} user {}: not cached; fix the row's version", e.getMessage(), activityId, userId);
            }
            return new Read(row, Source.PRIMARY);
        }
        protocol.fill(side, key, token, fill);
        return new Read(row, Source.FILLED);
    }

    /** The answer an entry gives, or null when it gives none (absent, a lease, undecodable). */
    private static Read fromCache(long activityId, long userId, String raw) {
        if (raw == null) {
            return null;
        }
        Entry e;
        try {
            e = Entry.decode(raw);
        } catch (UndecodableEntryException ex) {
            return null;
        }
        return switch (e.kind()) {
            case ROW -> new Read(Optional.of(new ClaimRow(activityId, userId, e.amount(), e.status(), e.requestId(),
                    e.version(), e.updatedAtMillis())), Source.CACHE);
            case PLACEHOLDER, TOMBSTONE -> new Read(Optional.empty(), Source.CACHE);
            case LEASE -> null;
        };
    }
}
