package dev.rpctl.claim;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.config.BadDataPolicy;
import dev.rpctl.config.Keys;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.UndecodableEntryException;
import dev.rpctl.protocol.VersionOutOfRangeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What an application calls to answer "has this user claimed, and how much?". Reads the local
 * side; a placeholder or tombstone answers "no claim" without touching the primary; a miss takes
 * a lease, reads the primary and fills under the lease. Concurrent misses of one key in this
 * process share one primary read.
 * <p>
 * A side that cannot be reached does not fail the read: it is answered from the primary (the
 * fallback), at most {@code fallbackConcurrency} reads at once, so an outage of a side cannot
 * turn into a stampede on MySQL; a read beyond that bound fails (exit 69). The side is then left
 * alone for a second at a time, so a hung side costs one timeout a second, not one a read.
 * <p>
 * An undecodable entry follows sync.on-bad-data: under {@code fail} the read fails (exit 65,
 * naming the key); under {@code warn} (logged) and {@code skip} the reader answers from the primary
 * and swaps exactly that value for the primary's row, so it is not read again. Both are counted.
 */
public final class ClaimReader {
    private static final Logger log = LoggerFactory.getLogger(ClaimReader.class);
    /** How long a side that could not be reached is left alone before a read tries it again. */
    private static final long DOWN_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * Where the answer came from: the side; the primary, then filled into the side; the primary
     * alone (another reader fills); the primary because the side could not be reached; the
     * primary, replacing an undecodable entry.
     */
    public enum Source { CACHE, FILLED, PRIMARY, FALLBACK, REPAIRED }

    public record Read(Optional<ClaimRow> claim, Source source) {}

    private final CacheProtocol protocol;
    private final CacheSide side;
    private final ClaimRepository primary;
    private final int fallbackConcurrency;
    private final Semaphore fallbackPermits;
    private final BadDataPolicy onBadData;
    private final ConcurrentHashMap<String, CompletableFuture<Read>> inFlight = new ConcurrentHashMap<>();
    private volatile Consumer<String> afterPrimaryRead = k -> { };
    private final AtomicLong uncacheable = new AtomicLong();
    private final LongAdder fallbacks = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder undecodable = new LongAdder();
    private final java.util.concurrent.atomic.AtomicLong downUntil = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean down;

    /** A reader with the key table's defaults for the fallback bound and the bad-data policy. */
    public ClaimReader(CacheProtocol protocol, CacheSide side, ClaimRepository primary) {
        this(protocol, side, primary, Keys.CLAIM_READ_FALLBACK_CONCURRENCY.defaultValue(), Keys.SYNC_ON_BAD_DATA.defaultValue());
    }

    public ClaimReader(CacheProtocol protocol, CacheSide side, ClaimRepository primary, int fallbackConcurrency,
                       BadDataPolicy onBadData) {
        this.protocol = protocol;
        this.side = side;
        this.primary = primary;
        this.fallbackConcurrency = fallbackConcurrency;
        this.fallbackPermits = new Semaphore(fallbackConcurrency);
        this.onBadData = onBadData;
    }

    /** Runs between the primary read and the fill; lets a test hold a reader at that point. */
    void afterPrimaryRead(Consumer<String> hook) {
        this.afterPrimaryRead = hook;
    }

    public String side() {
        return side.name();
    }

    /** Primary reads of rows whose version no entry can carry (see Entry.MAX_VERSION). */
    public long uncacheable() {
        return uncacheable.get();
    }

    /** Primary reads made because the side could not be reached (concurrent reads of one key share one). */
    public long fallbacks() {
        return fallbacks.sum();
    }

    /** Reads that failed because the side could not be reached and the fallback bound was taken. */
    public long refused() {
        return refused.sum();
    }

    /** Undecodable entries met (and, unless the policy is fail, replaced). */
    public long undecodable() {
        return undecodable.sum();
    }

    public Read read(long activityId, long userId) {
        String key = protocol.key(activityId, userId);
        if (!skipping()) {
            try {
                Read hit = answer(activityId, userId, onSide(() -> side.get(key)));
                if (hit != null) {
                    return hit;
                }
            } catch (SideDown e) {
                // the miss below falls back to the primary
            }
        }
        CompletableFuture<Read> mine = new CompletableFuture<>();
        CompletableFuture<Read> theirs = inFlight.putIfAbsent(key, mine);
        if (theirs != null) {
            try {
                return theirs.join();
            } catch (CompletionException e) {
                // the reader whose primary read this one shares failed: so does this read, the same way
                if (e.getCause() instanceof Refused) {
                    refused.increment();
                }
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
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
        if (skipping()) {
            return fallback(activityId, userId);
        }
        String token = Long.toHexString(ThreadLocalRandom.current().nextLong());
        String current;
        try {
            // a user the activity's Bloom filter certainly does not hold gets "no claim" and a placeholder here
            current = onSide(() -> protocol.readOrLease(side, key, token, activityId, userId));
        } catch (SideDown e) {
            return fallback(activityId, userId);
        }
        if (current != null) {
            Read r = answer(activityId, userId, current);
            if (r != null) {
                return r;
            }
            if (!CacheProtocol.decodes(current)) {
                return replace(activityId, userId, key, current);
            }
            // another reader holds the lease: read the primary, leave the fill to that reader
            return new Read(primary.find(activityId, userId), Source.PRIMARY);
        }
        Optional<ClaimRow> row = primary.find(activityId, userId);
        afterPrimaryRead.accept(key);
        Entry fill = cacheable(activityId, userId, row);
        if (fill == null) {
            // no entry can order this row: answer it from the primary, and leave the lease to expire
            return new Read(row, Source.PRIMARY);
        }
        try {
            onSide(() -> protocol.fill(side, key, token, fill));
        } catch (SideDown e) {
            return new Read(row, Source.PRIMARY);
        }
        return new Read(row, Source.FILLED);
    }

    /** The primary's answer while the side cannot be reached, within the bound; beyond it, exit 69. */
    private Read fallback(long activityId, long userId) {
        if (!fallbackPermits.tryAcquire()) {
            refused.increment();
            throw new Refused("redis side " + side.name() + " at " + side.address()
                    + " is unreachable and " + fallbackConcurrency + " reads already go to the primary instead"
                    + " (claim.read-fallback-concurrency); this read is refused");
        }
        try {
            fallbacks.increment();
            return new Read(primary.find(activityId, userId), Source.FALLBACK);
        } finally {
            fallbackPermits.release();
        }
    }

    /**
     * An undecodable value under sync.on-bad-data: fail, or answer from the primary and swap
     * exactly that value for the row (a write that replaced it meanwhile is kept).
     */
    private Read replace(long activityId, long userId, String key, String raw) {
        undecodable.increment();
        if (onBadData == BadDataPolicy.FAIL) {
            throw UndecodableEntryException.at(side.name(), key, raw);
        }
        Optional<ClaimRow> row = primary.find(activityId, userId);
        Entry e = cacheable(activityId, userId, row);
        boolean swapped;
        try {
            swapped = e != null && onSide(() -> protocol.swap(side, key, raw, e));
        } catch (SideDown ex) {
            swapped = false;
        }
        if (onBadData == BadDataPolicy.WARN) {
            log.warn("side {}: key {} held an undecodable value {}; {} (sync.on-bad-data=warn)", side.name(), key,
                    UndecodableEntryException.shorten(raw), swapped ? "replaced by the primary's " + e.kind().label()
                            : "answered from the primary, not replaced");
        }
        return new Read(row, swapped ? Source.REPAIRED : Source.PRIMARY);
    }

    /** The entry of a primary read, or null for a row whose version no entry can carry. */
    private Entry cacheable(long activityId, long userId, Optional<ClaimRow> row) {
        try {
            return row.map(Entry::row).orElseGet(Entry::placeholder);
        } catch (VersionOutOfRangeException e) {
            if (uncacheable.getAndIncrement() % 1000 == 0) {
                log.warn("{} of activity {} user {}: not cached; fix the row's version", e.getMessage(), activityId, userId);
            }
            return null;
        }
    }

    /**
     * Whether the side is being left alone after it could not be reached. When the while is up,
     * one reader tries the side again (it moves the while on before it does); the others keep
     * leaving it alone until that one has an answer, so a hung side costs one timeout a second.
     */
    private boolean skipping() {
        if (!down) {
            return false;
        }
        long until = downUntil.get();
        long now = System.nanoTime();
        return now - until < 0 || !downUntil.compareAndSet(until, now + DOWN_NANOS);
    }

    /** A call to the side; an unreachable side is left alone for a while and thrown as SideDown. */
    private <T> T onSide(Supplier<T> call) {
        try {
            T t = call.get();
            if (down) {
                down = false;
                log.info("side {} answers again: reads use it again", side.name());
            }
            return t;
        } catch (RpctlException e) {
            if (e.exitCode() != ExitCode.UNAVAILABLE) {
                throw e;
            }
            downUntil.set(System.nanoTime() + DOWN_NANOS);
            if (!down) {
                down = true;
                log.warn("side {} ({}): {}; reads go to the primary, at most {} at once (claim.read-fallback-concurrency),"
                        + " and the side is tried again every second", side.name(), side.address(),
                        RpctlException.rootMessage(e), fallbackConcurrency);
            }
            throw new SideDown();
        }
    }

    /** A read refused beyond the fallback bound: exit 69, the side being unreachable. */
    private static final class Refused extends RpctlException {
        Refused(String message) {
            super(ExitCode.UNAVAILABLE, message);
        }
    }

    /** The side could not be reached; the read goes to the primary. */
    private static final class SideDown extends RuntimeException {
        SideDown() {
            super(null, null, false, false);
        }
    }

    /** The answer an entry gives, or null when it gives none (absent, a lease, undecodable). */
    private static Read answer(long activityId, long userId, String raw) {
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
