package dev.rpctl.cli;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;

/** The activity and user ids typed or shown in the shell, offered again by its completion. */
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
            Set<Long> into = of(name);
            if (into != null && value != null && value.matches("[0-9]{1,18}")) {
                into.add(Long.parseLong(value));
            }
        }
    }

    /** Ids a command showed for an option (--activity or --user). */
    void add(String option, List<Long> ids) {
        Set<Long> into = of(option);
        if (into != null) {
            into.addAll(ids);
        }
    }

    /** The ids seen for an option (--activity or --user), in order; none for any other. */
    List<String> candidates(String option) {
        Set<Long> ids = of(option);
        return ids == null ? List.of() : ids.stream().map(String::valueOf).toList();
    }

    private Set<Long> of(String option) {
        return switch (option) {
            case "--activity" -> activities;
            case "--user" -> users;
            default -> null;
        };
    }
}
