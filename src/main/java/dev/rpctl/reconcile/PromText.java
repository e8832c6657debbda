package dev.rpctl.reconcile;

import dev.rpctl.inspect.InspectService.Verdict;
import dev.rpctl.reconcile.ReconcileReport.SideCounts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * A reconcile's figures as Prometheus text, for node_exporter's textfile collector: written to a
 * temporary file beside the target and renamed over it, so the collector never reads half a file.
 */
public final class PromText {
    private PromText() {
    }

    public static String render(ReconcileReport r, long endedEpochMillis) {
        StringBuilder sb = new StringBuilder(2048);
        help(sb, "rpctl_reconcile_keys_checked", "gauge", "Keys compared with the primary in the last run, per side.");
        for (SideCounts s : r.sides()) {
            sb.append("rpctl_reconcile_keys_checked{side=\"").append(s.side()).append("\"} ").append(s.checked()).append('\n');
        }
        help(sb, "rpctl_reconcile_differences", "gauge", "Confirmed differences of the last run, per side and verdict.");
        for (SideCounts s : r.sides()) {
            for (Verdict v : Verdict.values()) {
                if (!v.fine()) {
                    sb.append("rpctl_reconcile_differences{side=\"").append(s.side()).append("\",verdict=\"").append(v.label())
                            .append("\"} ").append(s.count(v)).append('\n');
                }
            }
        }
        help(sb, "rpctl_reconcile_bloom_missing", "gauge", "Claimers an activity's ready Bloom filter did not hold, per side.");
        for (SideCounts s : r.sides()) {
            sb.append("rpctl_reconcile_bloom_missing{side=\"").append(s.side()).append("\"} ").append(s.bloomMissing()).append('\n');
        }
        help(sb, "rpctl_reconcile_orphans", "gauge", "Row entries without a row found by the last --orphans walk, per side.");
        for (SideCounts s : r.sides()) {
            sb.append("rpctl_reconcile_orphans{side=\"").append(s.side()).append("\"} ").append(s.orphans()).append('\n');
        }
        help(sb, "rpctl_reconcile_repaired", "gauge", "Entries repaired in the last run, per side.");
        for (SideCounts s : r.sides()) {
            sb.append("rpctl_reconcile_repaired{side=\"").append(s.side()).append("\"} ").append(s.repaired()).append('\n');
        }
        help(sb, "rpctl_reconcile_consistency_ratio", "gauge", "Fraction of checked keys that were right before repair.");
        for (SideCounts s : r.sides()) {
            sb.append("rpctl_reconcile_consistency_ratio{side=\"").append(s.side()).append("\"} ")
                    .append(String.format(Locale.ROOT, "%.9f", s.consistency())).append('\n');
        }
        help(sb, "rpctl_reconcile_duration_seconds", "gauge", "How long the last run took.");
        sb.append("rpctl_reconcile_duration_seconds ").append(String.format(Locale.ROOT, "%.3f", r.seconds())).append('\n');
        help(sb, "rpctl_reconcile_completed", "gauge", "1 when the last run scanned its whole scope, 0 when it was interrupted.");
        sb.append("rpctl_reconcile_completed ").append(r.completed() ? 1 : 0).append('\n');
        help(sb, "rpctl_reconcile_last_run_timestamp_seconds", "gauge", "When the last run ended.");
        sb.append("rpctl_reconcile_last_run_timestamp_seconds ").append(endedEpochMillis / 1000).append('\n');
        return sb.toString();
    }

    public static void write(Path target, ReconcileReport r, long endedEpochMillis) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, render(r, endedEpochMillis), StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void help(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }
}
