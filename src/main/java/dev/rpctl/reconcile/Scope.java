package dev.rpctl.reconcile;

import java.time.Duration;
import java.util.List;

/**
 * What one reconcile covers: an activity (0 for all), rows changed within {@code since} (null for
 * all), users {@code fromUser..toUser} (null for all), and the sides. Two runs of the same scope
 * never run at once, and --resume continues the run of the same scope.
 */
public record Scope(long activityId, Duration since, Long fromUser, Long toUser, List<String> sides) {

    /** The scope as text: the name of its lock and of its row of progress. */
    public String id() {
        return "activity=" + (activityId > 0 ? activityId : "all")
                + " since=" + (since == null ? "all" : since.toMillis() + "ms")
                + " users=" + (fromUser == null ? "all" : fromUser + "-" + toUser)
                + " sides=" + String.join(",", sides);
    }
}
