package dev.rpctl.config;

import java.util.List;

/**
 * The configuration is unusable. Carries every problem found, each naming where the bad value
 * came from ({@code file:line}, {@code env RPCTL_X} or {@code flag --x}) and the key.
 */
public final class ConfigException extends RuntimeException {

    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(String.join("\n", problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
