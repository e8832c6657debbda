package dev.rpctl.config;

import java.util.Locale;
import java.util.Objects;

/**
 * One configuration key, declared once in {@link Keys} with its type, default, description and
 * checks. The same name serves the YAML file ({@code mysql.pool-size}), the environment
 * ({@code RPCTL_MYSQL_POOL_SIZE}) and the command line ({@code --mysql-pool-size}).
 */
public final class Key<T> {

    /** A rule beyond the type; returns what is wrong, or null when the value is fine. */
    interface Check<T> {
        String problem(T value);
    }

    private final String name;
    private final ValueType<T> type;
    private final T defaultValue;
    private final String description;
    private final Check<? super T> check;

    /** @param check a rule beyond the type, or null */
    Key(String name, ValueType<T> type, T defaultValue, String description, Check<? super T> check) {
        this.name = Objects.requireNonNull(name);
        this.type = Objects.requireNonNull(type);
        this.defaultValue = defaultValue;
        this.description = Objects.requireNonNull(description);
        this.check = check;
    }

    /** The YAML dotted path, kebab-case, e.g. {@code mysql.pool-size}. */
    public String name() {
        return name;
    }

    /** The environment variable, e.g. {@code RPCTL_MYSQL_POOL_SIZE}. */
    public String env() {
        return "RPCTL_" + name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** The long option, e.g. {@code --mysql-pool-size}. */
    public String flag() {
        return "--" + name.replace('.', '-');
    }

    public T defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    public boolean secret() {
        return type == ValueType.SECRET;
    }

    /** What a value looks like, for help and messages: {@code integer 1-65535}, {@code duration}, ... */
    public String typeName() {
        return type.name();
    }

    boolean acceptsList() {
        return type.list();
    }

    /**
     * Parses and checks one raw value.
     *
     * @throws IllegalArgumentException saying what is wrong; never quotes a secret
     */
    public T parse(String raw) {
        T value = type.parse(raw);
        String problem = check == null ? null : check.problem(value);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return value;
    }

    /** The value as it would be written in the file; a secret renders as {@code ****}, or empty when unset. */
    public String render(T value) {
        if (secret()) {
            return value == null || value.toString().isEmpty() ? "" : "****";
        }
        return value == null ? "" : type.render(value);
    }

    /** The default as the file would spell it; empty when there is none. */
    public String renderedDefault() {
        return defaultValue == null ? "" : type.render(defaultValue);
    }

    @Override
    public String toString() {
        return name;
    }
}
