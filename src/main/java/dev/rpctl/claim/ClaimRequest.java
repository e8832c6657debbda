package dev.rpctl.claim;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/** One claim on its way to a committer; result is completed whatever happens. */
record ClaimRequest(Activity activity, long userId, String requestId, Instant now,
                    CompletableFuture<ClaimService.Outcome> result) {}
