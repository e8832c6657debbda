package dev.rpctl.reconcile;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.SideWork;
import dev.rpctl.inspect.EntryJudge;
import dev.rpctl.inspect.InspectService.SideView;
import dev.rpctl.inspect.InspectService.Verdict;
import dev.rpctl.protocol.BloomFilters;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.VersionOutOfRangeException;
import dev.rpctl.reconcile.ReconcileReport.SideCounts;
import dev.rpctl.reconcile.ReconcileRepository.Cursor;
import dev.rpctl.reconcile.ReconcileRepository.Key;
import dev.rpctl.reconcile.ReconcileRepository.Scanned;
import dev.rpctl.reconcile.ReconcileRepository.Tombstone;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The last line of defence: scans the claim table (and the keys deleted from it) of a scope in key
 * order, a chunk at a time, compares each key's entry on every side with the row, and repairs what
 * differs. A difference is confirmed before it counts: the row is read again from the primary and
 * the entry again from the side, so a write that landed during the scan is not taken for one. A
 * repair swaps exactly the value it compared (as {@code inspect --repair} does), so a newer write
 * is never undone. Deleted keys come from the tombstone table the triggers keep, so an entry of a
 * deleted row is found without walking the keyspace.
 */
public final class ReconcileService {

    /** rewrite: write the primary's row; invalidate: remove the entry of a row that exists (a tombstone for one that does not). */
    public enum RepairMode { REWRITE, INVALIDATE }

    /** orphans: also walk each side's keys of the scope (SCAN) for row entries whose row does not exist. */
    public record Request(Scope scope, boolean dryRun, RepairMode mode, double rate, int chunk, boolean resume,
                          boolean orphans) {
        public Request(Scope scope, boolean dryRun, RepairMode mode, double rate, int chunk, boolean resume) {
            this(scope, dryRun, mode, rate, chunk, resume, false);
        }
    }

    /** Told after every chunk: keys checked so far, and where the scan is. */
    public interface Listener {
        void update(long keysChecked, double seconds, String where);
    }

    private static final String CLAIMS = "claims";
    private static final long SAVE_EVERY_NANOS = 1_000_000_000L;
    private static final String DELETED = "deleted";

    private final ReconcileRepository primary;
    private final ReconcileRepository scan;
    private final CacheProtocol protocol;
    private final List<CacheSide> sides;
    private final EntryJudge judge;
    private volatile boolean stopping;
    private volatile java.util.function.Consumer<String> beforeRepair = k -> { };

    /**
     * @param scan where the scan reads rows: the primary, or a replica (every difference is then
     *             read again from the primary before it counts)
     */
    public ReconcileService(ReconcileRepository primary, ReconcileRepository scan, CacheProtocol protocol,
                            List<CacheSide> sides, EntryJudge judge) {
        this.primary = primary;
        this.scan = scan;
        this.protocol = protocol;
        this.sides = sides;
        this.judge = judge;
    }

    /** Runs between a difference's confirmation and its repair; lets a test write in between. */
    void beforeRepair(java.util.function.Consumer<String> hook) {
        this.beforeRepair = hook;
    }

    /** Asks a running reconcile to stop after its chunk and save where it got to. */
    public void stop() {
        stopping = true;
    }

    public ReconcileReport run(Request req, Listener progress) {
        Scope scope = req.scope();
        String id = scope.id();
        Connection lock = primary.lock(id);
        if (lock == null) {
            throw RpctlException.temporary("another reconcile of the same scope is running (" + id + "); try again when it ends");
        }
        long started = System.nanoTime();
        try {
            ReconcileRepository.Progress at = start(req, id);
            long sinceMillis = at.sinceMillis();
            Map<String, SideCounts> counts = new java.util.LinkedHashMap<>();
            for (CacheSide s : sides) {
                counts.put(s.name(), SideCounts.empty(s.name()));
            }
            long scanned = at.scanned();
            long checked = 0;
            boolean deletedPhase = at.table().equals(DELETED);
            Cursor cursor = at.after();
            long savedNanos = System.nanoTime();
            while (!stopping) {
                List<Scanned<Expected>> chunk = deletedPhase ? deleted(scope, cursor, sinceMillis, req.chunk())
                        : claims(scope, cursor, sinceMillis, req.chunk());
                if (chunk.isEmpty()) {
                    if (deletedPhase) {
                        break;
                    }
                    deletedPhase = true;
                    cursor = Cursor.START;
                    continue;
                }
                List<Expected> items = new ArrayList<>(chunk.size());
                for (Scanned<Expected> e : chunk) {
                    items.add(e.item());
                }
                checkSides(items, req, counts);
                cursor = chunk.get(chunk.size() - 1).at();
                scanned += chunk.size();
                checked += chunk.size();
                if (System.nanoTime() - savedNanos > SAVE_EVERY_NANOS) {
                    // a resumed run checks again at most a second of keys
                    primary.save(new ReconcileRepository.Progress(id, deletedPhase ? DELETED : CLAIMS, cursor, sinceMillis, scanned, false));
                    savedNanos = System.nanoTime();
                }
                double seconds = (System.nanoTime() - started) / 1e9;
                progress.update(checked, seconds, (deletedPhase ? "deleted keys" : "claims") + " up to activity "
                        + cursor.activityId() + " user " + cursor.userId());
                pace(req.rate(), checked, started);
            }
            if (!stopping && req.orphans()) {
                for (CacheSide s : sides) {
                    counts.put(s.name(), new OrphanWalk(primary, protocol, this::confirm, stopping()).walk(s, scope, req,
                            counts.get(s.name())));
                }
            }
            boolean completed = !stopping;
            primary.save(new ReconcileRepository.Progress(id, deletedPhase ? DELETED : CLAIMS, cursor, sinceMillis,
                    scanned, completed));
            return new ReconcileReport(id, List.copyOf(counts.values()), scanned, checked,
                    (System.nanoTime() - started) / 1e9, req.dryRun(), stopping, completed);
        } finally {
            try {
                lock.close();
            } catch (SQLException ignored) {
                // closing the session releases the lock
            }
        }
    }

    /** Where this run starts: after the unfinished run of the same scope with --resume, else at the beginning. */
    private ReconcileRepository.Progress start(Request req, String id) {
        if (req.resume()) {
            Optional<ReconcileRepository.Progress> p = primary.progress(id);
            if (p.isPresent() && !p.get().done()) {
                return p.get();
            }
        }
        long since = req.scope().since() == null ? 0 : System.currentTimeMillis() - req.scope().since().toMillis();
        return new ReconcileRepository.Progress(id, CLAIMS, Cursor.START, since, 0, false);
    }

    /** A key and what the primary said of it in the scan: its row, or none (and the tombstone version). */
    record Expected(Key key, Optional<ClaimRow> row, long tombstoneVersion) {}

    private List<Scanned<Expected>> claims(Scope scope, Cursor after, long since, int limit) {
        List<Scanned<Expected>> out = new ArrayList<>();
        for (Scanned<ClaimRow> s : scan.claims(scope, after, since, limit)) {
            ClaimRow r = s.item();
            out.add(new Scanned<>(new Expected(new Key(r.activityId(), r.userId()), Optional.of(r), 0), s.at()));
        }
        return out;
    }

    private List<Scanned<Expected>> deleted(Scope scope, Cursor after, long since, int limit) {
        List<Scanned<Expected>> out = new ArrayList<>();
        for (Scanned<Tombstone> s : scan.tombstones(scope, after, since, limit)) {
            out.add(new Scanned<>(new Expected(s.item().key(), Optional.empty(), s.item().version()), s.at()));
        }
        return out;
    }

    /** Every side's check of a chunk, the sides side by side: each is its own server. */
    private void checkSides(List<Expected> items, Request req, Map<String, SideCounts> counts) {
        Map<String, SideCounts> before = Map.copyOf(counts);
        for (SideCounts c : SideWork.each(sides, s -> check(s, items, req, before.get(s.name())))) {
            counts.put(c.side(), c);
        }
    }

    /** One side's entries of a chunk: judged, the differences confirmed, then repaired. */
    private SideCounts check(CacheSide side, List<Expected> items, Request req, SideCounts before) {
        List<String> keys = new ArrayList<>(items.size());
        for (Expected e : items) {
            keys.add(protocol.key(e.key().activityId(), e.key().userId()));
        }
        List<String> raws = side.getAll(keys);
        Map<Verdict, Long> verdicts = new EnumMap<>(before.verdicts());
        List<Integer> suspects = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            SideView v = judge(side, keys.get(i), raws.get(i), items.get(i).row());
            if (v.verdict().fine()) {
                verdicts.merge(v.verdict(), 1L, Long::sum);
            } else {
                suspects.add(i);
            }
        }
        long changed = before.changed();
        long repaired = before.repaired();
        long skipped = before.repairSkipped();
        if (!suspects.isEmpty()) {
            List<Key> again = new ArrayList<>(suspects.size());
            List<String> againKeys = new ArrayList<>(suspects.size());
            for (int i : suspects) {
                again.add(items.get(i).key());
                againKeys.add(keys.get(i));
            }
            for (Confirmation c : confirm(side, again, againKeys, req)) {
                verdicts.merge(c.view().verdict(), 1L, Long::sum);
                if (c.view().verdict().fine()) {
                    changed++;
                } else if (c.repair() == Repair.REPAIRED) {
                    repaired++;
                } else if (c.repair() == Repair.SKIPPED) {
                    skipped++;
                }
            }
        }
        long[] bloom = checkBloom(side, items, req.dryRun());
        return new SideCounts(side.name(), before.checked() + items.size(), verdicts, changed, repaired, skipped,
                before.bloomMissing() + bloom[0], before.bloomAdded() + bloom[1], before.orphans(), before.orphansRepaired());
    }

    /** What became of a confirmed difference: left (dry run, or no difference after all), repaired, or skipped. */
    enum Repair { NONE, REPAIRED, SKIPPED }

    record Confirmation(SideView view, Repair repair) {}

    /**
     * Reads suspect keys again, the side first and then the primary, so a write that lands in
     * between makes the row newer than the entry compared (and the swap then loses), never the
     * other way round; judges each again and, unless dry, swaps what still differs for the
     * primary's row, or for the key's tombstone when it has none.
     */
    List<Confirmation> confirm(CacheSide side, List<Key> keys, List<String> keyStrings, Request req) {
        List<String> raws = side.getAll(keyStrings);
        Map<Key, ClaimRow> rows = primary.rows(keys);
        Map<Key, Long> tombstones = primary.tombstoneVersions(keys);
        List<Confirmation> out = new ArrayList<>(keys.size());
        for (int j = 0; j < keys.size(); j++) {
            Optional<ClaimRow> row = Optional.ofNullable(rows.get(keys.get(j)));
            String raw = raws.get(j);
            SideView v = judge(side, keyStrings.get(j), raw, row);
            if (v.verdict().fine() || req.dryRun()) {
                out.add(new Confirmation(v, Repair.NONE));
                continue;
            }
            Optional<Entry> target = target(row, tombstones.get(keys.get(j)), v, req.mode());
            beforeRepair.accept(keyStrings.get(j));
            // a swap that finds another value: written since it was compared, and newer than this repair
            boolean done = target != null && protocol.swap(side, keyStrings.get(j), raw, target.orElse(null));
            out.add(new Confirmation(v, done ? Repair.REPAIRED : Repair.SKIPPED));
        }
        return out;
    }

    /**
     * The claimers of a chunk that their activity's ready Bloom filter on this side does not hold,
     * confirmed against the primary, and added unless dry: {missing, added}.
     */
    private long[] checkBloom(CacheSide side, List<Expected> items, boolean dryRun) {
        Map<Long, List<Long>> byActivity = new java.util.LinkedHashMap<>();
        for (Expected e : items) {
            if (e.row().isPresent()) {
                byActivity.computeIfAbsent(e.key().activityId(), a -> new ArrayList<>()).add(e.key().userId());
            }
        }
        long missing = 0;
        long added = 0;
        BloomFilters blooms = protocol.blooms();
        for (Map.Entry<Long, List<Long>> a : byActivity.entrySet()) {
            List<BloomFilters.Answer> answers = blooms.check(side, a.getKey(), a.getValue());
            List<Key> absent = new ArrayList<>();
            for (int i = 0; i < answers.size(); i++) {
                if (answers.get(i) == BloomFilters.Answer.NOT_A_CLAIMER) {
                    absent.add(new Key(a.getKey(), a.getValue().get(i)));
                }
            }
            if (absent.isEmpty()) {
                continue;
            }
            Map<Key, ClaimRow> rows = primary.rows(absent);
            long[] users = new long[rows.size()];
            int n = 0;
            for (Key k : absent) {
                if (rows.containsKey(k)) {
                    users[n++] = k.userId();
                }
            }
            missing += n;
            if (!dryRun && n > 0) {
                blooms.add(side, a.getKey(), users, 0, n);
                added += n;
            }
        }
        return new long[] {missing, added};
    }

    private java.util.function.BooleanSupplier stopping() {
        return () -> stopping;
    }

    SideView judge(CacheSide side, String key, String raw, Optional<ClaimRow> row) {
        // only a lease's TTL changes its verdict (filling or stuck); one PTTL per lease met
        long ttl = raw != null && raw.startsWith("L|") ? side.pttl(key) : 1;
        return judge.judge(side.name(), raw, ttl, row);
    }

    /**
     * What a difference is repaired to: empty for "no entry" (the next read fills it under a
     * lease), null when nothing may be written (a version no entry can carry).
     */
    private static Optional<Entry> target(Optional<ClaimRow> row, Long tombstoneVersion, SideView v, RepairMode mode) {
        if (row.isPresent()) {
            if (mode == RepairMode.INVALIDATE) {
                return Optional.empty();
            }
            try {
                return Optional.of(Entry.row(row.get()));
            } catch (VersionOutOfRangeException e) {
                return null;
            }
        }
        long version = tombstoneVersion != null ? tombstoneVersion : v.version() != null && v.version() > 0 ? v.version() + 1 : 0;
        return Optional.of(version > 0 ? Entry.tombstone(version) : Entry.placeholder());
    }

    /** Sleeps as long as the run is ahead of rate keys a second. */
    private void pace(double rate, long checked, long startedNanos) {
        if (rate <= 0) {
            return;
        }
        long dueNanos = startedNanos + (long) (checked / rate * 1e9);
        long wait = dueNanos - System.nanoTime();
        while (wait > 0 && !stopping) {
            try {
                Thread.sleep(Math.min(wait / 1_000_000 + 1, 200));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopping = true;
                return;
            }
            wait = dueNanos - System.nanoTime();
        }
    }
}
