package dev.rpctl.inspect;

import dev.rpctl.inspect.InspectService.SideView;
import dev.rpctl.inspect.InspectService.Verdict;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.UndecodableEntryException;

import java.time.Duration;
import java.util.Optional;

/**
 * The verdict on one side's raw entry for a key, given the primary's row (empty: no row). Shared by
 * {@code inspect} and {@code reconcile}, so both name a difference the same way.
 */
public final class EntryJudge {
    private final Duration leaseTtl;

    public EntryJudge(Duration leaseTtl) {
        this.leaseTtl = leaseTtl;
    }

    /** ttl: milliseconds to live as PTTL answers it, or -3 when the side was unreachable. */
    public SideView judge(String side, String raw, long ttl, Optional<ClaimRow> row) {
        if (ttl == -3L) {
            return new SideView(side, null, "-", null, ttl, Verdict.UNREACHABLE, "side unreachable", null);
        }
        if (raw == null) {
            return new SideView(side, null, "absent", null, ttl, Verdict.MISSING, "filled on the next read", null);
        }
        Entry e;
        try {
            e = Entry.decode(raw);
        } catch (UndecodableEntryException ex) {
            return new SideView(side, raw, "?", null, ttl, Verdict.UNDECODABLE, "not in the entry encoding", null);
        }
        String kind = e.kind().label();
        Long version = e.kind() == Entry.Kind.LEASE ? null : e.version();
        if (e.kind() == Entry.Kind.LEASE) {
            boolean stuck = ttl < 0 || ttl > leaseTtl.toMillis();
            return new SideView(side, raw, kind, null, ttl, stuck ? Verdict.LEASE_STUCK : Verdict.FILLING,
                    stuck ? "lease without the lease TTL: no reader will fill it" : "a reader is filling it", null);
        }
        if (row.isEmpty()) {
            if (e.kind() == Entry.Kind.ROW) {
                return new SideView(side, raw, kind, version, ttl, Verdict.STALE, "the primary has no such claim", null);
            }
            return new SideView(side, raw, kind, version, ttl, Verdict.CONSISTENT, "no row, and the entry says so", null);
        }
        ClaimRow r = row.get();
        return switch (e.kind()) {
            case PLACEHOLDER -> new SideView(side, raw, kind, version, ttl, Verdict.PLACEHOLDER_BUT_ROW_EXISTS,
                    "the primary has version " + r.version(), null);
            case TOMBSTONE -> e.version() > r.version()
                    ? new SideView(side, raw, kind, version, ttl, Verdict.AHEAD_OF_DB, "tombstone v" + e.version() + " > primary v" + r.version(), null)
                    : new SideView(side, raw, kind, version, ttl, Verdict.STALE, "tombstone hides primary v" + r.version(), null);
            case ROW -> {
                if (e.version() < r.version()) {
                    yield new SideView(side, raw, kind, version, ttl, Verdict.STALE, "v" + e.version() + " < primary v" + r.version(), null);
                }
                if (e.version() > r.version()) {
                    yield new SideView(side, raw, kind, version, ttl, Verdict.AHEAD_OF_DB, "v" + e.version() + " > primary v" + r.version(), null);
                }
                yield e.sameRow(r)
                        ? new SideView(side, raw, kind, version, ttl, Verdict.CONSISTENT, "", null)
                        : new SideView(side, raw, kind, version, ttl, Verdict.STALE, "same version, other content than the primary", null);
            }
            default -> throw new IllegalStateException();
        };
    }
}
