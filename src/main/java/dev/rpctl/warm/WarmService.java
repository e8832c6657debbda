package dev.rpctl.warm;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.SideWork;
import dev.rpctl.claim.ClaimRepository;
import dev.rpctl.protocol.BloomFilters;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.CasOutcome;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.VersionOutOfRangeException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Loads users' entries into the sides before they are asked for: rows read a batch a query from
 * the primary, written through the compare-and-set, so a newer entry already there is kept; a
 * user with no claim gets a placeholder, so a hot user who has not claimed yet is a hit too
 * (until the placeholder's TTL; any claim's entry replaces it).
 */
public final class WarmService {

    /** Told after every batch: users done so far. */
    public interface Listener {
        void update(long users, double seconds);
    }

    /** Per side: entries written, and kept because the side already had them or newer. */
    public record SideCounts(String side, long written, long kept, long undecodable) {}

    public record Report(long activityId, long users, long rows, long placeholders, long uncacheable,
                         List<SideCounts> sides, double seconds) {
        public double usersPerSecond() {
            return seconds <= 0 ? 0 : users / seconds;
        }
    }

    private final ClaimRepository primary;
    private final CacheProtocol protocol;
    private final List<CacheSide> sides;
    private final double falsePositiveRate;
    private final Duration bloomTtl;

    public WarmService(ClaimRepository primary, CacheProtocol protocol, List<CacheSide> sides,
                       double falsePositiveRate, Duration bloomTtl) {
        this.primary = primary;
        this.protocol = protocol;
        this.sides = sides;
        this.falsePositiveRate = falsePositiveRate;
        this.bloomTtl = bloomTtl;
    }

    /** A built filter: its size, and the claimers put in it. */
    public record BloomReport(long activityId, long bits, int hashes, long claimers, List<String> sides, double seconds) {}

    /**
     * Builds the activity's Bloom filter of claimers on every side, sized for count claimers: the
     * filter is started (writers add to it from then on, readers do not use it yet), every claimer
     * in the table at that moment is added, and only then it is marked ready. A claim committed
     * during the build is in the table scan or added by its own write, so none is missed.
     */
    public BloomReport buildBloom(long activityId, long count, Listener listener) {
        long started = System.nanoTime();
        BloomFilters.Size size = BloomFilters.Size.of(count, falsePositiveRate);
        BloomFilters blooms = protocol.blooms();
        for (CacheSide s : sides) {
            blooms.start(s, activityId, size, bloomTtl);
        }
        try {
            // writers that found no filter a moment ago add to it again once this has passed
            Thread.sleep(BloomFilters.SETTLE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the Bloom filter of activity " + activityId + " was started", e);
        }
        long after = Long.MIN_VALUE;
        long claimers = 0;
        while (true) {
            long[] page = primary.claimers(activityId, after, 5_000);
            if (page.length == 0) {
                break;
            }
            for (CacheSide s : sides) {
                blooms.add(s, activityId, page, 0, page.length);
            }
            claimers += page.length;
            after = page[page.length - 1];
            listener.update(claimers, (System.nanoTime() - started) / 1e9);
        }
        List<String> names = new ArrayList<>();
        for (CacheSide s : sides) {
            if (!blooms.ready(s, activityId, size)) {
                throw new IllegalStateException("the Bloom filter of activity " + activityId + " on side " + s.name()
                        + " was replaced during the build (another 'warm --bloom' of another size?); run it again");
            }
            names.add(s.name());
        }
        return new BloomReport(activityId, size.bits(), size.hashes(), claimers, names, (System.nanoTime() - started) / 1e9);
    }

    public Report warm(long activityId, long[] users, int batch, double rate, Listener listener) {
        long started = System.nanoTime();
        Map<String, long[]> counts = new LinkedHashMap<>();
        for (CacheSide s : sides) {
            counts.put(s.name(), new long[3]);
        }
        long rows = 0;
        long placeholders = 0;
        long uncacheable = 0;
        // the next batch's rows are read while this batch is written
        CompletableFuture<Map<Long, ClaimRow>> next = read(activityId, users, 0, Math.min(users.length, batch));
        for (int from = 0; from < users.length; from += batch) {
            int to = Math.min(users.length, from + batch);
            Map<Long, ClaimRow> found = SideWork.join(next);
            next = to < users.length ? read(activityId, users, to, Math.min(users.length, to + batch)) : null;
            List<CacheProtocol.Write> writes = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) {
                ClaimRow r = found.get(users[i]);
                Entry e;
                if (r == null) {
                    e = Entry.placeholder();
                    placeholders++;
                } else {
                    try {
                        e = Entry.row(r);
                        rows++;
                    } catch (VersionOutOfRangeException ex) {
                        uncacheable++;
                        continue;
                    }
                }
                writes.add(new CacheProtocol.Write(protocol.key(activityId, users[i]), e, activityId, users[i]));
            }
            // the sides side by side: each is its own server
            SideWork.each(sides, s -> count(s, writes, counts.get(s.name())));
            double seconds = (System.nanoTime() - started) / 1e9;
            listener.update(to, seconds);
            pace(rate, to, started);
        }
        List<SideCounts> sideCounts = new ArrayList<>();
        counts.forEach((name, c) -> sideCounts.add(new SideCounts(name, c[0], c[1], c[2])));
        return new Report(activityId, users.length, rows, placeholders, uncacheable, sideCounts,
                (System.nanoTime() - started) / 1e9);
    }

    private CompletableFuture<Map<Long, ClaimRow>> read(long activityId, long[] users, int from, int to) {
        return SideWork.start(() -> primary.findUsers(activityId, users, from, to));
    }

    private Void count(CacheSide side, List<CacheProtocol.Write> writes, long[] c) {
        for (CasOutcome o : protocol.putAll(side, writes)) {
            c[o == CasOutcome.WRITTEN ? 0 : o == CasOutcome.KEPT ? 1 : 2]++;
        }
        return null;
    }

    /** The user ids of the configured top query, given the activity and N. */
    public long[] top(long activityId, int n) {
        return primary.userIds(activityId, n);
    }

    private static void pace(double rate, long done, long startedNanos) {
        if (rate <= 0) {
            return;
        }
        long wait = startedNanos + (long) (done / rate * 1e9) - System.nanoTime();
        if (wait > 0) {
            try {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
