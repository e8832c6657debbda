package dev.rpctl.cli;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;

/** The activity and user ids typed in the shell, offered again by its completion. */
final class SeenIds {
    private final Set<Long> activities = new ConcurrentSkipListSet<>();
    private final Set<Long> users = new ConcurrentSkipListSet<>();

    /** Takes the ids of --activity and --user (and --activity=7) from a command line. */
    void record(List<String> words) {
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            int eq = w.indexOf('=');
            String name = eq < 0 ? w : w.substring(0, eq);
            String value = eq >= 0 ? w.substring(eq + 1) : i + 1 < words.size() ? words.get(i + 1) : null;
            Set<Long> into = name.equals("--activity") ? activities : name.equals("--user") ? users : null;
            if (into != null && value != null && value.matches("[0-9]{1,18}")) {
                into.add(Long.parseLong(value));
            }
        }
    }

    /** The ids seen for an option (--activity or --user), in order; none for any other. */
    List<String> of(String option) {
        Set<Long> ids = option.equals("--activity") ? activities : option.equals("--user") ? users : Set.of();
        return ids.stream().map(String::valueOf).toList();
    }
}
