package dev.rpctl.cli;

import dev.rpctl.claim.ClaimService;
import dev.rpctl.claim.LoadDriver;
import dev.rpctl.claim.LoadService;
import dev.rpctl.claim.VerifyService;
import dev.rpctl.protocol.ClaimRow;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** How {@code claim} shows one claim's outcome, a load's outcomes for its progress line, and its report. */
final class ClaimView {
    private ClaimView() {
    }

    static void outcome(Output out, long activity, long user, ClaimService.Outcome o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("result", Output.word(o.result()));
        m.put("activity", activity);
        m.put("user", user);
        ClaimRow r = o.row();
        m.put("amount", r == null ? null : r.amount());
        m.put("request_id", r == null || r.requestId().isEmpty() ? null : r.requestId());
        m.put("version", r == null ? null : r.version());
        m.put("reason", o.reason());
        m.put("write_through_failed", o.failedSides());
        m.put("bad_data", o.badData() == null ? null : o.badData().getMessage());
        if (out.json()) {
            out.json(m);
            return;
        }
        String res = switch (o.result()) {
            case CLAIMED -> "@|green claimed|@";
            case DUPLICATE -> "@|yellow duplicate|@";
            default -> "@|red " + o.result().name().toLowerCase().replace('_', '-') + "|@";
        };
        out.table(List.of("result", "activity", "user", "amount", "request", "version"),
                List.of(List.of(res, Long.toString(activity), Long.toString(user),
                        r == null ? "-" : Long.toString(r.amount()),
                        r == null || r.requestId().isEmpty() ? "-" : r.requestId(),
                        r == null ? "-" : Long.toString(r.version()))));
        if (o.result() == ClaimService.Result.SOLD_OUT || o.result() == ClaimService.Result.CLOSED
                || o.result() == ClaimService.Result.NOT_STARTED) {
            out.err().println(o.reason());
        }
        if (!o.failedSides().isEmpty()) {
            out.err().println("write-through missed side(s) " + String.join(",", o.failedSides())
                    + "; the binlog pipeline will apply the claim there");
        }
    }

    /** A load's outcomes so far, for its progress line. */
    static String outcomes(long claimed, long duplicates, long soldOut, long errors) {
        return String.format(java.util.Locale.ROOT, "claimed %,d, duplicate %,d, sold out %,d, errors %,d", claimed, duplicates, soldOut, errors);
    }

    /** A share of the claim transactions' time waiting for row locks from which the summary suggests more shards. */
    static final double LOCK_WAIT_WARNING = 0.10;

    static void load(Output out, LoadService.Report report) {
        LoadDriver.Result r = report.load();
        VerifyService.Report v = report.verify();
        if (out.json()) {
            out.json(loadJson(report));
            return;
        }
        out.line(String.format("%,d operations in %.1f s: %,.0f/s%s", r.operations(), r.seconds(), r.perSecond(),
                r.interrupted() ? " (interrupted: the figures so far)" : ""));
        List<List<String>> rows = new ArrayList<>();
        for (LoadDriver.OpStats s : r.ops()) {
            rows.add(List.of(s.op().name().toLowerCase().replace('_', '-'), String.format("%,d", s.count()),
                    String.format("%,.0f", s.perSecond()), ms(s.p50Ms()), ms(s.p99Ms()), ms(s.p999Ms()), ms(s.maxMs())));
        }
        out.table(List.of("op", "count", "per-sec", "p50", "p99", "p99.9", "max"), rows);
        out.line(String.format("outcomes: claimed %,d  duplicate %,d  sold out %,d  closed %,d  errors %,d  write-through misses %,d",
                r.claimed(), r.duplicates(), r.soldOut(), r.closed(), r.errors(), r.writeThroughMisses()));
        if (r.readFallbacks() > 0 || r.readsRefused() > 0 || r.undecodableEntries() > 0) {
            out.line(String.format("reads: from the primary while the side was down %,d  refused beyond the fallback bound %,d"
                    + "  undecodable entries %,d", r.readFallbacks(), r.readsRefused(), r.undecodableEntries()));
        }
        if (report.groups().groups() > 0) {
            out.line(String.format("claims: %.1f a group (a transaction each); row lock waits %,d, %.0f%% of the transactions' time",
                    report.groups().claimsPerGroup(), report.rowLockWaits(), 100 * report.rowLockWaitShare()));
            if (report.rowLockWaitShare() >= LOCK_WAIT_WARNING) {
                out.line("@|yellow claims waited on budget shard locks for a noticeable share of their time: more shards spread them"
                        + " (activity create --shards N; claim.budget-shards for new activities)|@");
            }
        }
        out.line(String.format("driver: the load's threads used %.0f%% of this process's CPU (%.1f of %.1f CPU-seconds)",
                100 * r.driverCpuShare(), r.driverCpuSeconds(), r.processCpuSeconds()));
        if (r.firstError() != null) {
            out.line("@|red first error|@: " + r.firstError());
        }
        if (v != null) {
            verification(out, v);
        }
    }

    /** The --json document of a load (docs/json.md). */
    static Map<String, Object> loadJson(LoadService.Report report) {
        LoadDriver.Result r = report.load();
        VerifyService.Report v = report.verify();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("duration_ms", Output.ms(r.seconds()));
        m.put("operations", r.operations());
        m.put("per_second", r.perSecond());
        List<Map<String, Object>> ops = new ArrayList<>();
        for (LoadDriver.OpStats s : r.ops()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("op", Output.word(s.op()));
            o.put("count", s.count());
            o.put("per_second", s.perSecond());
            o.put("p50_ms", s.p50Ms());
            o.put("p99_ms", s.p99Ms());
            o.put("p999_ms", s.p999Ms());
            o.put("max_ms", s.maxMs());
            ops.add(o);
        }
        m.put("ops", ops);
        m.put("claimed", r.claimed());
        m.put("duplicates", r.duplicates());
        m.put("sold_out", r.soldOut());
        m.put("closed", r.closed());
        m.put("errors", r.errors());
        m.put("write_through_misses", r.writeThroughMisses());
        m.put("read_fallbacks", r.readFallbacks());
        m.put("reads_refused", r.readsRefused());
        m.put("undecodable_entries", r.undecodableEntries());
        m.put("first_error", r.firstError());
        m.put("bad_data", r.badData() == null ? null : r.badData().getMessage());
        m.put("interrupted", r.interrupted());
        m.put("claims_per_group", report.groups().claimsPerGroup());
        m.put("row_lock_waits", report.rowLockWaits());
        m.put("row_lock_wait_share", report.rowLockWaitShare());
        m.put("driver_cpu_share", r.driverCpuShare());
        if (v != null) {
            Map<String, Object> verify = new LinkedHashMap<>();
            verify.put("consistent", v.consistent());
            verify.put("users_with_two_claims", v.usersWithTwoClaims());
            verify.put("paid_count", v.paidCount());
            verify.put("paid_amount", v.paidAmount());
            verify.put("total_count", v.totalCount());
            verify.put("total_amount", v.totalAmount());
            verify.put("remaining_count", v.remainingCount());
            verify.put("remaining_amount", v.remainingAmount());
            verify.put("overspent", v.overspent());
            verify.put("remaining_mismatch", v.remainingMismatch());
            List<Map<String, Object>> sides = new ArrayList<>();
            for (VerifyService.SideCheck s : v.sides()) {
                Map<String, Object> sm = new LinkedHashMap<>();
                sm.put("side", s.side());
                sm.put("checked", s.checked());
                sm.put("differing", s.differing());
                sm.put("missing", s.missing());
                sm.put("examples", s.examples());
                sm.put("unreachable", s.unreachable());
                sides.add(sm);
            }
            verify.put("sides", sides);
            m.put("verify", verify);
        }
        m.put("consistent", v == null ? null : v.consistent());
        return m;
    }

    private static void verification(Output out, VerifyService.Report v) {
        List<List<String>> checks = new ArrayList<>();
        checks.add(List.of("users with two claims", Long.toString(v.usersWithTwoClaims()), ok(v.usersWithTwoClaims() == 0)));
        checks.add(List.of("paid count / budget", v.paidCount() + " / " + v.totalCount(), ok(v.paidCount() <= v.totalCount())));
        checks.add(List.of("paid amount / budget", v.paidAmount() + " / " + v.totalAmount(), ok(v.paidAmount() <= v.totalAmount())));
        checks.add(List.of("remaining = total - paid", v.remainingCount() + " claims, " + v.remainingAmount() + " cents",
                ok(!v.remainingMismatch())));
        for (VerifyService.SideCheck s : v.sides()) {
            if (s.unreachable() != null) {
                checks.add(List.of("side " + s.side() + " entries = rows", "not checked: " + s.unreachable(), "@|bold,red unchecked|@"));
                continue;
            }
            checks.add(List.of("side " + s.side() + " entries = rows", s.differing() + " of " + s.checked() + " differ"
                    + (s.missing() > 0 ? ", " + s.missing() + " missing (fine: a read fills them)" : ""), ok(s.differing() == 0)));
        }
        out.table(List.of("check", "value", "verdict"), checks);
        for (VerifyService.SideCheck s : v.sides()) {
            for (String e : s.examples()) {
                out.line("  side " + s.side() + ": " + e);
            }
        }
    }

    private static String ok(boolean ok) {
        return ok ? "@|green ok|@" : "@|bold,red differs|@";
    }

    private static String ms(double v) {
        return String.format("%.2fms", v);
    }
}
