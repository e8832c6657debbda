package dev.rpctl.cli;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.claim.ClaimService;
import dev.rpctl.claim.LoadDriver;
import dev.rpctl.claim.LoadService;
import dev.rpctl.claim.VerifyService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "claim", description = "Claim one packet, or drive a load of claims and reads and check the invariants.",
        footer = {"", "Exit: 0 claimed or duplicate (one claim), or consistent (--verify); 1 sold out, closed, or differences found."})
final class ClaimCommand extends BaseCommand {
    @Option(names = "--activity", required = true, paramLabel = "A", description = "Activity id.")
    long activity;

    @Option(names = "--user", paramLabel = "U", description = "One claim by this user.")
    Long user;

    @Option(names = "--request-id", paramLabel = "R", description = "Idempotency key of the request (one claim).")
    String requestId;

    @Mixin
    LoadOptions load;

    @Override
    public Integer call() throws InterruptedException {
        if (activity < 1) {
            throw RpctlException.usage("--activity must be a positive id, got " + activity);
        }
        if (user != null && user < 1) {
            throw RpctlException.usage("--user must be a positive id, got " + user);
        }
        if (load.users == null) {
            if (user == null) {
                throw RpctlException.usage("give --user for one claim, or --users FROM-TO for a load");
            }
            if (load.anyOnlyForLoad()) {
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
        ClaimView.outcome(out(), activity, user, o);
        if (o.badData() != null) {
            // committed all the same: the claim stands, the entry waits for the operator
            throw o.badData();
        }
        return o.result() == ClaimService.Result.CLAIMED || o.result() == ClaimService.Result.DUPLICATE ? 0 : 1;
    }

    private int load() throws InterruptedException {
        LoadDriver.Plan plan = load.plan(activity);
        Progress progress = progress("claim", "ops");
        if (plan.duration() != null) {
            progress.duration(plan.duration());
        } else {
            progress.total(plan.count());
        }
        LoadService service = app().loadService();
        // Ctrl-C (or SIGTERM) stops the load; the figures so far are printed, then it exits as a shell would (130, 143)
        String[] signal = new String[1];
        Signals.onTerminate(name -> {
            signal[0] = name;
            service.stop();
        });
        LoadService.Report report = service.run(plan, load.readSide, load.verify,
                p -> progress.update(p.operations(), p.seconds(), ClaimView.outcomes(p.claimed(), p.duplicates(), p.soldOut(), p.errors())));
        LoadDriver.Result r = report.load();
        progress.finish(r.operations(), r.seconds(), ClaimView.outcomes(r.claimed(), r.duplicates(), r.soldOut(), r.errors())
                + (r.interrupted() ? ", interrupted" : ""));
        ClaimView.load(out(), report);
        if (report.load().badData() != null) {
            throw report.load().badData();
        }
        if (report.everyOperationFailed()) {
            throw new RpctlException(ExitCode.UNAVAILABLE, "every operation failed: " + report.load().firstError());
        }
        if (report.load().interrupted()) {
            out().err().println("rpctl: interrupted: the figures so far" + (load.verify ? "; not verified" : ""));
            out().err().flush();
            return "TERM".equals(signal[0]) ? 143 : 130;
        }
        if (report.verify() != null && !report.verify().unchecked().isEmpty() && report.verify().checkedConsistent()) {
            // the figures and every check that could run are printed above, all passed; the exit says
            // what stopped the rest (a check that failed exits 1 whatever else happened)
            throw new RpctlException(ExitCode.UNAVAILABLE, "side(s) " + String.join(", ", report.verify().unchecked())
                    + " could not be verified: " + report.verify().sides().stream().filter(x -> x.unreachable() != null)
                    .map(VerifyService.SideCheck::unreachable).findFirst().orElse(""), null);
        }
        return report.verify() == null ? 0 : exit(report.verify().consistent());
    }
}
