package dev.rpctl.cli;

import dev.rpctl.App;
import dev.rpctl.RpctlException;
import dev.rpctl.claim.ClaimReader;
import dev.rpctl.claim.ClaimService;
import dev.rpctl.claim.LoadDriver;
import dev.rpctl.claim.VerifyService;
import dev.rpctl.protocol.ClaimRow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "claim", description = "Claim one packet, or drive a load of claims and reads and check the invariants.",
        footer = {"", "Exit: 0 claimed or duplicate (one claim), or consistent (--verify); 1 sold out, closed, or differences found."})
final class ClaimCommand extends BaseCommand {
    @Option(names = "--activity", required = true, paramLabel = "A", description = "Activity id.")
    long activity;

    @Option(names = "--user", paramLabel = "U", description = "One claim by this user.")
    Long user;

    @Option(names = "--request-id", paramLabel = "R", description = "Idempotency key of the request (one claim).")
    String requestId;

    @Option(names = "--users", paramLabel = "FROM-TO", description = "Load: the range of user ids, e.g. 1-100000.")
    String users;

    @Option(names = "--concurrency", defaultValue = "16", paramLabel = "C", description = "Load: threads (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--duration", paramLabel = "D", description = "Load: how long, e.g. 30s, 2m.")
    String duration;

    @Option(names = "--count", paramLabel = "N", description = "Load: how many operations.")
    Long count;

    @Option(names = "--duplicate-ratio", defaultValue = "0", paramLabel = "R",
            description = "Load: share of claims that retry an already claimed user (default: ${DEFAULT-VALUE}).")
    double duplicateRatio;

    @Option(names = "--read-ratio", defaultValue = "0", paramLabel = "R",
            description = "Load: share of operations that are reads (default: ${DEFAULT-VALUE}).")
    double readRatio;

    @Option(names = "--rate", defaultValue = "0", paramLabel = "N", description = "Load: operations per second, 0 for as fast as possible.")
    double rate;

    @Option(names = "--read-side", defaultValue = "a", paramLabel = "a|b", description = "Load: the side reads use (default: ${DEFAULT-VALUE}).")
    String readSide;

    @Option(names = "--verify", description = "Load: then check no double claim, no overspend, remaining = total - paid, and every touched entry on every side.")
    boolean verify;

    @Override
    public Integer call() throws InterruptedException {
        if (users == null) {
            if (user == null) {
                throw RpctlException.usage("give --user for one claim, or --users FROM-TO for a load");
            }
            if (duration != null || count != null || verify) {
                throw RpctlException.usage("--duration, --count and --verify go with --users, not --user");
            }
            return single();
        }
        if (user != null || requestId != null) {
            throw RpctlException.usage("--user and --request-id are for one claim; a load takes --users FROM-TO");
        }
        return load();
    }

    private int single() {
        ClaimService.Outcome o = app().claimService().claim(activity, user, requestId);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("result", o.result().name().toLowerCase().replace('_', '-'));
        m.put("activity", activity);
        m.put("user", user);
        ClaimRow r = o.row();
        m.put("amount", r == null ? null : r.amount());
        m.put("request_id", r == null ? null : r.requestId());
        m.put("version", r == null ? null : r.version());
        m.put("reason", o.reason());
        m.put("write_through_failed", o.failedSides());
        if (out().json()) {
            out().json(m);
        } else {
            String res = switch (o.result()) {
                case CLAIMED -> "@|green claimed|@";
                case DUPLICATE -> "@|yellow duplicate|@";
                default -> "@|red " + m.get("result") + "|@";
            };
            out().table(List.of("result", "activity", "user", "amount", "request", "version"),
                    List.of(List.of(res, Long.toString(activity), Long.toString(user),
                            r == null ? "-" : Long.toString(r.amount()),
                            r == null || r.requestId().isEmpty() ? "-" : r.requestId(),
                            r == null ? "-" : Long.toString(r.version()))));
            if (o.result() == ClaimService.Result.SOLD_OUT || o.result() == ClaimService.Result.CLOSED) {
                out().err().println(o.reason());
            }
            if (!o.failedSides().isEmpty()) {
                out().err().println("write-through missed side(s) " + String.join(",", o.failedSides())
                        + "; the binlog pipeline will apply the claim there");
            }
        }
        return o.result() == ClaimService.Result.CLAIMED || o.result() == ClaimService.Result.DUPLICATE ? 0 : 1;
    }

    private int load() throws InterruptedException {
        long[] range = range(users);
        if (duration == null && count == null) {
            throw RpctlException.usage("a load needs --duration D or --count N");
        }
        if (concurrency < 1 || concurrency > 4096) {
            throw RpctlException.usage("--concurrency must be 1-4096, got " + concurrency);
        }
        if (duplicateRatio < 0 || duplicateRatio > 1 || readRatio < 0 || readRatio > 1) {
            throw RpctlException.usage("--duplicate-ratio and --read-ratio must be between 0 and 1");
        }
        Duration d = duration == null ? null : duration("--duration", duration);
        App app = app();
        app.activities().require(activity);
        ClaimReader reader = new ClaimReader(app.protocol(), app.side(readSide), app.claims());
        LoadDriver driver = new LoadDriver(app.claimService(), reader);
        LoadDriver.Plan plan = new LoadDriver.Plan(activity, range[0], range[1], concurrency, d,
                count == null ? 0 : count, duplicateRatio, readRatio, rate);
        boolean progress = root().terminal() && !out().json();
        LoadDriver.Result r = driver.run(plan, p -> {
            if (progress) {
                out().err().printf("\r%6.1fs  %,d ops  claimed %,d  duplicate %,d  sold out %,d  errors %,d   ",
                        p.seconds(), p.operations(), p.claimed(), p.duplicates(), p.soldOut(), p.errors());
                out().err().flush();
            }
        });
        if (progress) {
            out().err().println();
        }
        VerifyService.Report v = null;
        if (verify) {
            v = new VerifyService(app.primary(), app.config().mapping(), app.activities(), app.claims(), app.protocol(),
                    List.copyOf(app.sides().values())).verify(activity, r.touchedUsers());
        }
        if (out().json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seconds", r.seconds());
            m.put("operations", r.operations());
            m.put("per_second", r.perSecond());
            m.put("ops", r.ops());
            m.put("claimed", r.claimed());
            m.put("duplicates", r.duplicates());
            m.put("sold_out", r.soldOut());
            m.put("closed", r.closed());
            m.put("errors", r.errors());
            m.put("write_through_misses", r.writeThroughMisses());
            m.put("first_error", r.firstError());
            if (v != null) {
                m.put("verify", v);
                m.put("consistent", v.consistent());
            }
            out().json(m);
        } else {
            render(r, v);
        }
        if (r.errors() > 0 && r.errors() == r.operations()) {
            throw new RpctlException(dev.rpctl.ExitCode.UNAVAILABLE, "every operation failed: " + r.firstError());
        }
        return v == null ? 0 : exit(v.consistent());
    }

    private void render(LoadDriver.Result r, VerifyService.Report v) {
        out().line(String.format("%,d operations in %.1f s: %,.0f/s", r.operations(), r.seconds(), r.perSecond()));
        List<List<String>> rows = new ArrayList<>();
        for (LoadDriver.OpStats s : r.ops()) {
            rows.add(List.of(s.op().name().toLowerCase().replace('_', '-'), String.format("%,d", s.count()),
                    String.format("%,.0f", s.perSecond()), ms(s.p50Ms()), ms(s.p99Ms()), ms(s.p999Ms()), ms(s.maxMs())));
        }
        out().table(List.of("op", "count", "per-sec", "p50", "p99", "p99.9", "max"), rows);
        out().line(String.format("outcomes: claimed %,d  duplicate %,d  sold out %,d  closed %,d  errors %,d  write-through misses %,d",
                r.claimed(), r.duplicates(), r.soldOut(), r.closed(), r.errors(), r.writeThroughMisses()));
        if (r.firstError() != null) {
            out().line("@|red first error|@: " + r.firstError());
        }
        if (v == null) {
            return;
        }
        List<List<String>> checks = new ArrayList<>();
        checks.add(List.of("users with two claims", Long.toString(v.usersWithTwoClaims()), ok(v.usersWithTwoClaims() == 0)));
        checks.add(List.of("paid count / budget", v.paidCount() + " / " + v.totalCount(), ok(v.paidCount() <= v.totalCount())));
        checks.add(List.of("paid amount / budget", v.paidAmount() + " / " + v.totalAmount(), ok(v.paidAmount() <= v.totalAmount())));
        checks.add(List.of("remaining = total - paid", v.remainingCount() + " claims, " + v.remainingAmount() + " cents",
                ok(!v.remainingMismatch())));
        for (VerifyService.SideCheck s : v.sides()) {
            checks.add(List.of("side " + s.side() + " entries = rows", s.differing() + " of " + s.checked() + " differ",
                    ok(s.differing() == 0)));
        }
        out().table(List.of("check", "value", "verdict"), checks);
        for (VerifyService.SideCheck s : v.sides()) {
            for (String e : s.examples()) {
                out().line("  side " + s.side() + ": " + e);
            }
        }
    }

    private static String ok(boolean ok) {
        return ok ? "@|green ok|@" : "@|bold,red differs|@";
    }

    private static String ms(double v) {
        return String.format("%.2fms", v);
    }

    static long[] range(String s) {
        String[] p = s.split("-", 2);
        try {
            long from = Long.parseLong(p[0].trim());
            long to = p.length == 1 ? from : Long.parseLong(p[1].trim());
            if (from < 1 || to < from) {
                throw new NumberFormatException();
            }
            return new long[] {from, to};
        } catch (NumberFormatException e) {
            throw RpctlException.usage("--users must be FROM-TO with 1 <= FROM <= TO, e.g. 1-100000, got \"" + s + "\"");
        }
    }
}
