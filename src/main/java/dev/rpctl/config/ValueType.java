package dev.rpctl.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** How the text of a value (file, environment or flag) becomes a typed value, and back. */
final class ValueType<T> {

    interface Parser<T> {
        T parse(String raw);
    }

    interface Renderer<T> {
        String render(T value);
    }

    private final String name;
    private final Parser<T> parser;
    private final Renderer<T> renderer;
    private final boolean list;

    private ValueType(String name, Parser<T> parser, Renderer<T> renderer, boolean list) {
        this.name = name;
        this.parser = parser;
        this.renderer = renderer;
        this.list = list;
    }

    String name() {
        return name;
    }

    /** The same parsing under a more telling name, for a type narrowed by a check: {@code SQL identifier}. */
    ValueType<T> named(String newName) {
        return new ValueType<>(newName, parser, renderer, list);
    }

    /** Whether a YAML list is accepted for the value. */
    boolean list() {
        return list;
    }

    T parse(String raw) {
        return parser.parse(raw == null ? "" : raw);
    }

    String render(T value) {
        return renderer.render(value);
    }

    static final ValueType<String> STRING = new ValueType<>("string", raw -> raw, v -> v, false);

    // Parsing a secret never fails, so no message can ever quote one.
    static final ValueType<String> SECRET = new ValueType<>("secret", raw -> raw, v -> v, false);

    static final ValueType<Boolean> BOOLEAN = new ValueType<>("boolean", raw -> {
        String t = raw.trim().toLowerCase(Locale.ROOT);
        if (t.equals("true")) {
            return true;
        }
        if (t.equals("false")) {
            return false;
        }
        throw new IllegalArgumentException("expected true or false, got \"" + raw + "\"");
    }, String::valueOf, false);

    static final ValueType<Duration> DURATION =
            new ValueType<>("duration", Durations::parse, Durations::render, false);

    static final ValueType<List<HostPort>> HOST_PORT_LIST = new ValueType<>("list of host:port", raw -> {
        if (raw.isBlank()) {
            throw new IllegalArgumentException("expected a list of host:port like 127.0.0.1:6379, got \"\"");
        }
        List<HostPort> out = new ArrayList<>();
        for (String part : raw.split(",", -1)) {
            if (part.isBlank()) {
                throw new IllegalArgumentException("expected a list of host:port, got an empty entry in \"" + raw + "\"");
            }
            out.add(HostPort.parse(part));
        }
        return List.copyOf(out);
    }, v -> v.stream().map(HostPort::toString).collect(Collectors.joining(",")), true);

    static ValueType<Integer> integer(int min, int max) {
        String name = max == Integer.MAX_VALUE ? "integer at least " + min : "integer " + min + "-" + max;
        return new ValueType<>(name, raw -> {
            long v = parseLong(raw, name);
            if (v < min || v > max) {
                throw new IllegalArgumentException("expected an " + name + ", got " + raw.trim());
            }
            return (int) v;
        }, String::valueOf, false);
    }

    static ValueType<Long> longInteger(long min, long max) {
        String name = "integer " + min + "-" + max;
        return new ValueType<>(name, raw -> {
            long v = parseLong(raw, name);
            if (v < min || v > max) {
                throw new IllegalArgumentException("expected an " + name + ", got " + raw.trim());
            }
            return v;
        }, String::valueOf, false);
    }

    /** A fraction strictly between min and max, e.g. a false-positive rate. */
    static ValueType<Double> fraction(double min, double max) {
        String name = "number between " + min + " and " + max;
        return new ValueType<>(name, raw -> {
            double v;
            try {
                v = Double.parseDouble(raw.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a " + name + ", got \"" + raw + "\"");
            }
            if (!(v > min && v < max)) {
                throw new IllegalArgumentException("expected a " + name + ", got " + raw.trim());
            }
            return v;
        }, String::valueOf, false);
    }

    private static long parseLong(String raw, String name) {
        String t = raw.trim();
        if (!t.matches("[+-]?[0-9]{1,18}")) {
            throw new IllegalArgumentException("expected an " + name + ", got \"" + raw + "\"");
        }
        return Long.parseLong(t);
    }

    /** Accepts the lower-case constant names, case-insensitively. */
    static <E extends Enum<E>> ValueType<E> oneOf(Class<E> type) {
        E[] constants = type.getEnumConstants();
        String choices = Arrays.stream(constants).map(ValueType::lower).collect(Collectors.joining("|"));
        String name = "one of " + choices;
        return new ValueType<>(name, raw -> {
            String t = raw.trim();
            for (E e : constants) {
                if (e.name().equalsIgnoreCase(t)) {
                    return e;
                }
            }
            throw new IllegalArgumentException("expected " + name + ", got \"" + raw + "\"");
        }, ValueType::lower, false);
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
