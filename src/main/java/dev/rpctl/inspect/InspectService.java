package dev.rpctl.inspect;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.claim.ClaimRepository;
import dev.rpctl.protocol.BloomFilters;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.VersionOutOfRangeException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * One user's claims on the primary (and replica) beside each side's raw entry, with a verdict per
 * side, and optionally the repair of what differs. Repairs swap the exact value that was compared,
 * so a write that lands in between is never undone.
 */
public final class InspectService {

    public enum Verdict {
        CONSISTENT(true), MISSING(true), FILLING(true),
        STALE(false), PLACEHOLDER_BUT_ROW_EXISTS(false), AHEAD_OF_DB(false), LEASE_STUCK(false),
        UNDECODABLE(false), UNREACHABLE(false);

        private final boolean fine;

        Verdict(boolean fine) {
            this.fine = fine;
        }

        public boolean fine() {
            return fine;
        }

        public String label() {
            return name().toLowerCase().replace('_', '-');
        }
    }

    /** One side's entry for one key. version is null when the entry has none (absent, lease, undecodable). */
    public record SideView(String side, String raw, String kind, Long version, long ttlMillis, Verdict verdict,
                           String detail, String repaired) {}

    /** primary and replica are null where that server has no row (replica also without a replica). */
    /**
     * bloom: per side, what the activity's Bloom filter says of the user (none, maybe,
     * not-a-claimer); a claimer the filter calls not-a-claimer is a difference.
     */
    public record KeyView(long activityId, long userId, String key, ClaimRow primary,
                          ClaimRow replica, List<SideView> sides, java.util.Map<String, String> bloom) {
        public boolean consistent() {
            return sides.stream().allMatch(s -> s.verdict().fine())
                    && (primary == null || !bloom.containsValue(BLOOM_NOT_A_CLAIMER));
        }
    }

    static final String BLOOM_NOT_A_CLAIMER = "not-a-claimer";

    public record Report(long userId, List<KeyView> keys, String replicaLag, List<String> unreachable) {
        public boolean consistent() {
            return keys.stream().allMatch(KeyView::consistent);
        }
    }

    private final CacheProtocol protocol;
    private final List<CacheSide> sides;
    private final ClaimRepository primary;
    private final ClaimRepository replica;
    private final ReplicaLag replicaLag;
    private final EntryJudge judge;

    /** How far the replica is behind, as text ("0 s", "unknown"); null without a replica. */
    public interface ReplicaLag {
        String describe();
    }

    public InspectService(CacheProtocol protocol, List<CacheSide> sides, ClaimRepository primary,
                          ClaimRepository replica, ReplicaLag replicaLag, Duration leaseTtl) {
        this.protocol = protocol;
        this.sides = sides;
        this.primary = primary;
        this.replica = replica;
        this.replicaLag = replicaLag;
        this.judge = new EntryJudge(leaseTtl);
    }

    public Report inspect(long userId, long activityId, boolean repair) {
        TreeSet<Long> activities = new TreeSet<>();
        if (activityId > 0) {
            activities.add(activityId);
        } else {
            for (ClaimRow r : primary.findByUser(userId, 0)) {
                activities.add(r.activityId());
            }
        }
        List<KeyView> keys = new ArrayList<>();
        List<String> unreachable = new ArrayList<>();
        for (long a : activities) {
            keys.add(inspectKey(a, userId, repair, unreachable));
        }
        String lag = replica == null ? null : replicaLag.describe();
        return new Report(userId, keys, lag, unreachable);
    }

    private KeyView inspectKey(long activityId, long userId, boolean repair, List<String> unreachable) {
        String key = protocol.key(activityId, userId);
        // read the caches before the primary: an entry written after a commit is then never
        // newer than the row we compare it with, so "ahead" really means ahead
        List<String> raws = new ArrayList<>();
        List<Long> ttls = new ArrayList<>();
        for (CacheSide s : sides) {
            try {
                raws.add(s.get(key));
                ttls.add(s.pttl(key));
            } catch (RpctlException e) {
                if (e.exitCode() == ExitCode.CONFIG) {
                    throw e; // a side rpctl may not use as configured (its certificate, a login) is not a side that is down
                }
                raws.add(null);
                ttls.add(-3L);
                if (!unreachable.contains(e.getMessage())) {
                    unreachable.add(e.getMessage());
                }
            }
        }
        Optional<ClaimRow> row = primary.find(activityId, userId);
        Optional<ClaimRow> rep = replica == null ? Optional.empty() : replica.find(activityId, userId);
        List<SideView> views = new ArrayList<>();
        for (int i = 0; i < sides.size(); i++) {
            CacheSide s = sides.get(i);
            SideView v = judge(s.name(), raws.get(i), ttls.get(i), row);
            if (repair && !v.verdict().fine() && v.verdict() != Verdict.UNREACHABLE) {
                v = repair(s, key, v, row);
            }
            views.add(v);
        }
        java.util.Map<String, String> bloom = new java.util.LinkedHashMap<>();
        for (CacheSide s : sides) {
            try {
                BloomFilters.Answer a = protocol.blooms().check(s, activityId, List.of(userId)).get(0);
                if (a == BloomFilters.Answer.NOT_A_CLAIMER && row.isPresent() && repair) {
                    // the row exists: the filter must hold its user
                    protocol.blooms().add(s, activityId, new long[] {userId}, 0, 1);
                    a = protocol.blooms().check(s, activityId, List.of(userId)).get(0);
                }
                bloom.put(s.name(), a == BloomFilters.Answer.NO_FILTER ? "none"
                        : a == BloomFilters.Answer.MAYBE ? "maybe" : BLOOM_NOT_A_CLAIMER);
            } catch (RpctlException e) {
                if (e.exitCode() == ExitCode.CONFIG) {
                    throw e; // a side rpctl may not use as configured (its certificate, a login) is not a side that is down
                }
                bloom.put(s.name(), "unreachable");
            }
        }
        return new KeyView(activityId, userId, key, row.orElse(null), rep.orElse(null), views, bloom);
    }

    SideView judge(String side, String raw, long ttl, Optional<ClaimRow> row) {
        return judge.judge(side, raw, ttl, row);
    }

    private SideView repair(CacheSide s, String key, SideView v, Optional<ClaimRow> row) {
        Entry target;
        if (row.isPresent()) {
            try {
                target = Entry.row(row.get());
            } catch (VersionOutOfRangeException e) {
                return new SideView(v.side(), v.raw(), v.kind(), v.version(), v.ttlMillis(), v.verdict(),
                        v.detail(), "left alone: the primary's " + e.getMessage());
            }
        } else if (v.version() != null && v.version() > 0) {
            // a deleted row's tombstone is its last version + 1
            target = Entry.tombstone(v.version() + 1);
        } else {
            target = Entry.placeholder();
        }
        boolean done = protocol.swap(s, key, v.raw(), target);
        String raw = s.get(key);
        SideView after = judge(s.name(), raw, s.pttl(key), row);
        String what = done ? "rewrote " + describe(v.raw()) + " -> " + target.encode()
                : "left alone: the entry changed since it was compared";
        return new SideView(after.side(), after.raw(), after.kind(), after.version(), after.ttlMillis(), after.verdict(),
                v.verdict().label() + " before; " + after.detail(), what);
    }

    private static String describe(String raw) {
        return raw == null ? "(absent)" : raw;
    }
}
