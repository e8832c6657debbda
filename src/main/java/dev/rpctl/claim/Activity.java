package dev.rpctl.claim;

import java.time.Instant;

/** An activity and its budget; remaining figures are the sum of its budget shards. */
public record Activity(long id, String name, int totalCount, long totalAmount, Allocation allocation,
                       String status, Instant startsAt, Instant endsAt, int shards, long version,
                       long remainingCount, long remainingAmount) {

    public long paidCount() {
        return totalCount - remainingCount;
    }

    public long paidAmount() {
        return totalAmount - remainingAmount;
    }

    /** The amount every claim gets under the fixed allocation. */
    public long fixedAmount() {
        return totalAmount / totalCount;
    }

    /** What a claim meets at a moment, as activity show tells it. */
    public enum State { OPEN, PAUSED, CLOSED, NOT_STARTED, ENDED, SOLD_OUT }

    public State state(Instant now) {
        if ("paused".equals(status)) {
            return State.PAUSED;
        }
        if (!"open".equals(status)) {
            return State.CLOSED;
        }
        if (startsAt != null && now.isBefore(startsAt)) {
            return State.NOT_STARTED;
        }
        if (endsAt != null && !now.isBefore(endsAt)) {
            return State.ENDED;
        }
        return remainingCount <= 0 ? State.SOLD_OUT : State.OPEN;
    }

    /** Why a claim cannot be made now, or null when it can. */
    public String closedReason(Instant now) {
        if (!"open".equals(status)) {
            return "activity " + id + " is " + status;
        }
        if (startsAt != null && now.isBefore(startsAt)) {
            return "activity " + id + " starts at " + startsAt;
        }
        if (endsAt != null && !now.isBefore(endsAt)) {
            return "activity " + id + " ended at " + endsAt;
        }
        return null;
    }
}
