package dev.rpctl.claim;

import dev.rpctl.db.Database;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A load of claims and reads against one existing activity ({@link LoadDriver}), then, when
 * asked, the activity's invariants checked over every user the load touched ({@link VerifyService}).
 */
public final class LoadService {
    private static final List<String> ROW_LOCKS = List.of("Innodb_row_lock_waits", "Innodb_row_lock_time");

    /**
     * What a load did; verify is null when it was not asked for. groups: the claim groups its
     * claims went in; rowLockWaits and rowLockMillis: the server's InnoDB row lock waits over the
     * load (Innodb_row_lock_waits, Innodb_row_lock_time: every session's, so another load on
     * the server counts too), beside the groups' transaction time.
     */
    public record Report(LoadDriver.Result load, VerifyService.Report verify, ClaimService.GroupStats groups,
                         long rowLockWaits, long rowLockMillis) {
        /** The share of the claim transactions' time spent waiting for row locks (budget shards, mostly), 0-1. */
        public double rowLockWaitShare() {
            double tx = groups.transactionNanos() / 1e6;
            return tx <= 0 ? 0 : Math.min(1, rowLockMillis / tx);
        }

        /** Every operation failed: a server is the problem, not the claims. */
        public boolean everyOperationFailed() {
            return load.errors() > 0 && load.errors() == load.operations();
        }
    }

    private final ActivityService activities;
    private final Supplier<ClaimService> claims;
    private final Function<String, ClaimReader> readers;
    private final Supplier<VerifyService> verifier;
    private final Database db;
    private volatile LoadDriver driver;
    private volatile boolean stopped;

    /** The claim service, the reader of a side and the verifier are opened only when a load needs them. */
    public LoadService(ActivityService activities, Supplier<ClaimService> claims, Function<String, ClaimReader> readers,
                       Supplier<VerifyService> verifier, Database db) {
        this.db = db;
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
        ClaimService service = claims.get();
        LoadDriver d = new LoadDriver(service, reader);
        ClaimService.GroupStats groupsBefore = service.groupStats();
        Map<String, Long> locksBefore = db.globalStatus(ROW_LOCKS);
        driver = d;
        if (stopped) {
            d.stop();
        }
        LoadDriver.Result result = d.run(plan, progress);
        Map<String, Long> locks = db.globalStatus(ROW_LOCKS);
        ClaimService.GroupStats groups = service.groupStats().minus(groupsBefore);
        // an interrupted run is not verified: whoever pressed Ctrl-C wants the figures so far, now
        VerifyService.Report checked = verify && !result.interrupted() && result.badData() == null
                ? verifier.get().verify(plan.activityId(), result.touchedUsers()) : null;
        return new Report(result, checked, groups,
                locks.getOrDefault(ROW_LOCKS.get(0), 0L) - locksBefore.getOrDefault(ROW_LOCKS.get(0), 0L),
                locks.getOrDefault(ROW_LOCKS.get(1), 0L) - locksBefore.getOrDefault(ROW_LOCKS.get(1), 0L));
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
