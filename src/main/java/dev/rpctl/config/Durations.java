package dev.rpctl.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one duration syntax of the config: an integer and a unit, {@code 250ms 5s 2m 24h}. */
public final class Durations {

    private static final Pattern SYNTAX = Pattern.compile("([0-9]+)(ms|s|m|h)");

    private Durations() {
    }

    /** The duration raw spells; IllegalArgumentException saying what is wrong when it is not one. */
    public static Duration parse(String raw) {
        Matcher m = SYNTAX.matcher(raw == null ? "" : raw.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("expected a duration like 250ms, 5s, 2m, got \"" + raw + "\"");
        }
        try {
            long amount = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                default -> Duration.ofHours(amount);
            };
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("duration is too long: \"" + raw + "\"");
        }
    }

    /** The shortest exact form: 90s stays 90s, 120s becomes 2m. */
    static String render(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0s";
        }
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1_000 == 0) {
            return ms / 1_000 + "s";
        }
        return ms + "ms";
    }
}
