package dev.rpctl.claim;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * One claim on its way to a committer; result is completed whatever happens. queuedNanos
 * (System.nanoTime) starts the claim's time that the activity's claim statistics count.
 */
record ClaimRequest(Activity activity, long userId, String requestId, Instant now,
                    CompletableFuture<ClaimService.Outcome> result, long queuedNanos) {
    ClaimRequest(Activity activity, long userId, String requestId, Instant now, CompletableFuture<ClaimService.Outcome> result) {
        this(activity, userId, requestId, now, result, System.nanoTime());
    }
}
