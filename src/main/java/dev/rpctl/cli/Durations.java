package dev.rpctl.cli;

import dev.rpctl.RpctlException;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Command-line durations: 250ms, 30s, 5m, 1h. */
final class Durations {
    private static final Pattern P = Pattern.compile("(\\d+)(ms|s|m|h)");

    private Durations() {
    }

    static Duration parse(String flag, String s) {
        Matcher m = P.matcher(s.trim());
        if (!m.matches()) {
            throw RpctlException.usage(flag + " must be a duration like 250ms, 30s, 5m or 1h, got \"" + s + "\"");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }
}
