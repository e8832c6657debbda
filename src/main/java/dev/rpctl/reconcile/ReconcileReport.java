package dev.rpctl.reconcile;

import dev.rpctl.inspect.InspectService.Verdict;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What a reconcile found and did, per side. A difference is counted once it was confirmed (the
 * primary's row and the side's entry read again, and still different); one that went away on the
 * second read is {@code changed}, not a difference.
 */
public record ReconcileReport(String scope, List<SideCounts> sides, long rowsScanned, long keysChecked,
                              double seconds, boolean dryRun, boolean interrupted, boolean completed) {

    /**
     * One side's counts. {@code verdicts} holds every confirmed verdict, the fine ones included;
     * {@code bloomMissing} counts claimers the activity's ready Bloom filter did not hold (a
     * reader would have been told "no claim"), {@code bloomAdded} those put in it; {@code orphans}
     * counts row entries whose row does not exist, found by --orphans' walk of the keys,
     * {@code orphansRepaired} those turned into tombstones.
     */
    public record SideCounts(String side, long checked, Map<Verdict, Long> verdicts, long changed, long repaired,
                             long repairSkipped, long bloomMissing, long bloomAdded, long orphans, long orphansRepaired) {

        public long differences() {
            long n = 0;
            for (Map.Entry<Verdict, Long> e : verdicts.entrySet()) {
                if (!e.getKey().fine()) {
                    n += e.getValue();
                }
            }
            return n;
        }

        /** The fraction of checked keys the side had right before any repair; 1 when nothing was checked. */
        public double consistency() {
            return checked == 0 ? 1.0 : (double) (checked - differences()) / checked;
        }

        /** -log10 of the inconsistent fraction: 3 for 99.9%; infinite when nothing differed. */
        public double nines() {
            double bad = 1 - consistency();
            return bad <= 0 ? Double.POSITIVE_INFINITY : -Math.log10(bad);
        }

        public long count(Verdict v) {
            return verdicts.getOrDefault(v, 0L);
        }

        SideCounts withOrphans(long found, long repaired) {
            return new SideCounts(side, checked, verdicts, changed, this.repaired, repairSkipped, bloomMissing, bloomAdded,
                    orphans + found, orphansRepaired + repaired);
        }

        static SideCounts empty(String side) {
            return new SideCounts(side, 0, new EnumMap<>(Verdict.class), 0, 0, 0, 0, 0, 0, 0);
        }
    }

    public double rowsPerSecond() {
        return seconds <= 0 ? 0 : keysChecked / seconds;
    }

    /** Whether the caches are right now: nothing differed, or everything that did was repaired. */
    public boolean consistent() {
        for (SideCounts s : sides) {
            if (s.differences() > (dryRun ? 0 : s.repaired()) || s.bloomMissing() > (dryRun ? 0 : s.bloomAdded())
                    || s.orphans() > (dryRun ? 0 : s.orphansRepaired())) {
                return false;
            }
        }
        return true;
    }
}
