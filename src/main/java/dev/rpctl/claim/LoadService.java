package dev.rpctl.claim;

import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A load of claims and reads against one existing activity ({@link LoadDriver}), then, when
 * asked, the activity's invariants checked over every user the load touched ({@link VerifyService}).
 */
public final class LoadService {

    /** What a load did; verify is null when it was not asked for. */
    public record Report(LoadDriver.Result load, VerifyService.Report verify) {
        /** Every operation failed: a server is the problem, not the claims. */
        public boolean everyOperationFailed() {
            return load.errors() > 0 && load.errors() == load.operations();
        }
    }

    private final ActivityService activities;
    private final Supplier<ClaimService> claims;
    private final Function<String, ClaimReader> readers;
    private final Supplier<VerifyService> verifier;
    private volatile LoadDriver driver;
    private volatile boolean stopped;

    /** The claim service, the reader of a side and the verifier are opened only when a load needs them. */
    public LoadService(ActivityService activities, Supplier<ClaimService> claims, Function<String, ClaimReader> readers,
                       Supplier<VerifyService> verifier) {
        this.activities = activities;
        this.claims = claims;
        this.readers = readers;
        this.verifier = verifier;
    }

    /** Runs the plan with reads on readSide; progress hears about once a second while it runs. */
    public Report run(LoadDriver.Plan plan, String readSide, boolean verify, Consumer<LoadDriver.Progress> progress)
            throws InterruptedException {
        activities.require(plan.activityId());
        ClaimReader reader = readers.apply(readSide);
        LoadDriver d = new LoadDriver(claims.get(), reader);
        driver = d;
        if (stopped) {
            d.stop();
        }
        LoadDriver.Result result = d.run(plan, progress);
        // an interrupted run is not verified: whoever pressed Ctrl-C wants the figures so far, now
        VerifyService.Report checked = verify && !result.interrupted() && result.badData() == null
                ? verifier.get().verify(plan.activityId(), result.touchedUsers()) : null;
        return new Report(result, checked);
    }

    /** Stops a running load (Ctrl-C); run then returns the figures so far, unverified. */
    public void stop() {
        stopped = true;
        LoadDriver d = driver;
        if (d != null) {
            d.stop();
        }
    }
}
