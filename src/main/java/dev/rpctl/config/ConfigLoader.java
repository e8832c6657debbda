package dev.rpctl.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Resolves the configuration in one place: command-line flags over {@code RPCTL_*} variables over
 * the file over defaults. Every problem is collected before failing, each naming where the bad
 * value came from, so one run of {@code config check} shows all that needs fixing.
 */
public final class ConfigLoader {

    /** Names the config file; not a key. */
    public static final String CONFIG_ENV = "RPCTL_CONFIG";

    static final Path SYSTEM_FILE = Path.of("/etc/rpctl/config.yaml");

    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{env:([^}]*)}");

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ConfigLoader.class);

    private final Map<String, String> env;
    private final Path cwd;
    private final Path systemFile;
    private boolean strictPerms;

    /**
     * @param env the process environment (tests pass a map)
     * @param cwd where {@code ./rpctl.yaml} is looked for, and what relative paths resolve against
     */
    public ConfigLoader(Map<String, String> env, Path cwd) {
        this(env, cwd, SYSTEM_FILE);
    }

    ConfigLoader(Map<String, String> env, Path cwd, Path systemFile) {
        this.env = Map.copyOf(env);
        this.cwd = cwd;
        this.systemFile = systemFile;
    }

    /**
     * {@code --strict-perms}: a file that holds a password in clear and that users other than its
     * owner may read is refused (78) instead of warned about.
     */
    public ConfigLoader strictPerms(boolean strict) {
        this.strictPerms = strict;
        return this;
    }

    /**
     * Which file would be read: {@code --config}, else {@code $RPCTL_CONFIG}, else
     * {@code ./rpctl.yaml}, else {@code /etc/rpctl/config.yaml}, the first that exists. A file named
     * by {@code --config} or {@code $RPCTL_CONFIG} is returned even when missing, since the search
     * must not fall through to another file; {@link #load} then reports it.
     */
    public Optional<Path> locate(Path explicitFile) {
        if (explicitFile != null) {
            return Optional.of(cwd.resolve(explicitFile));
        }
        String named = env.get(CONFIG_ENV);
        if (named != null && !named.isBlank()) {
            return Optional.of(cwd.resolve(named));
        }
        Path local = cwd.resolve("rpctl.yaml");
        if (Files.exists(local)) {
            return Optional.of(local);
        }
        return Files.exists(systemFile) ? Optional.of(systemFile) : Optional.empty();
    }

    /**
     * @param explicitFile {@code --config}, or null
     * @param flags key name to raw value, from command-line flags; null for none
     * @throws ConfigException listing every problem found
     */
    public Config load(Path explicitFile, Map<String, String> flags) {
        return load(explicitFile, flags, Map.of());
    }

    /**
     * @param typed key name to the option the user typed for it, where that is not the key's own
     *              flag ({@code --metrics} for metrics.address), so a problem names what was typed
     */
    public Config load(Path explicitFile, Map<String, String> flags, Map<String, String> typed) {
        Map<Key<?>, Config.Resolved> values = Config.defaultValues();
        List<String> problems = new ArrayList<>();
        Map<String, String> given = flags == null ? Map.of() : flags;
        Optional<Path> file = locate(explicitFile);
        // a key the environment or a flag sets needs nothing from the file: its ${env:NAME} may stay unset
        Set<String> overridden = Keys.all().stream().filter(k -> env.containsKey(k.env()) || given.containsKey(k.name()))
                .map(Key::name).collect(Collectors.toSet());
        file.ifPresent(f -> readFile(f, values, problems, overridden));
        readEnv(values, problems);
        readFlags(given, typed == null ? Map.of() : typed, values, problems);
        crossCheck(values, problems);
        exposedKeyFiles(values, problems);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new Config(values, file.orElse(null));
    }

    private void readFile(Path file, Map<Key<?>, Config.Resolved> values, List<String> problems, Set<String> overridden) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            problems.add(file + ": cannot read: no such file" + namedBy());
            return;
        } catch (AccessDeniedException e) {
            problems.add(file + ": cannot read: permission denied");
            return;
        } catch (CharacterCodingException e) {
            problems.add(file + ": cannot read: not UTF-8 text");
            return;
        } catch (IOException e) {
            problems.add(file + ": cannot read: " + (Files.isDirectory(file) ? "is a directory" : e.getMessage()));
            return;
        }
        YamlSource.Result result = YamlSource.read(text);
        List<YamlSource.Problem> found = new ArrayList<>(result.problems());
        for (YamlSource.Entry entry : result.entries()) {
            if (overridden.contains(entry.key().name()) && unresolved(entry)) {
                continue;
            }
            fileEntry(file, entry, values, found);
        }
        exposedSecrets(file, result.entries()).ifPresent(line -> {
            if (strictPerms) {
                found.add(new YamlSource.Problem(line.line(), line.message()));
            } else {
                LOG.warn("{}:{}: {}", file, line.line(), line.message());
            }
        });
        found.stream().sorted(Comparator.comparingInt(YamlSource.Problem::line))
                .forEach(p -> problems.add(file + ":" + p.line() + ": " + p.message()));
    }

    /**
     * The first secret written in clear in a file that its group or others may read: what to do
     * about it (the value is never quoted). Empty when the file system has no POSIX permissions.
     */
    private static Optional<YamlSource.Problem> exposedSecrets(Path file, List<YamlSource.Entry> entries) {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
        boolean shared = perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ);
        if (!shared) {
            return Optional.empty();
        }
        for (YamlSource.Entry entry : entries) {
            if (!entry.key().secret()) {
                continue;
            }
            for (YamlSource.Scalar scalar : entry.values()) {
                if (!scalar.text().isEmpty() && !ENV_REFERENCE.matcher(scalar.text()).find()) {
                    return Optional.of(new YamlSource.Problem(scalar.line(), entry.key().name()
                            + " is written in clear in a file others may read (" + PosixFilePermissions.toString(perms)
                            + "); give it as " + entry.key().env() + " or ${env:NAME}, or chmod 600 the file"));
                }
            }
        }
        return Optional.empty();
    }

    private String namedBy() {
        String named = env.get(CONFIG_ENV);
        return named != null && !named.isBlank() ? " (named by " + CONFIG_ENV + ")" : "";
    }

    private void fileEntry(Path file, YamlSource.Entry entry, Map<Key<?>, Config.Resolved> values,
                           List<YamlSource.Problem> problems) {
        Key<?> key = entry.key();
        List<String> texts = new ArrayList<>();
        boolean ok = true;
        for (YamlSource.Scalar scalar : entry.values()) {
            try {
                String text = substitute(scalar.text());
                if (entry.list()) {
                    key.parse(text);  // each item on its own, so a bad one is blamed on its own line
                }
                texts.add(text);
            } catch (IllegalArgumentException e) {
                problems.add(new YamlSource.Problem(scalar.line(), key.name() + ": " + e.getMessage()));
                ok = false;
            }
        }
        if (!ok) {
            return;
        }
        if (entry.list() && texts.isEmpty()) {
            problems.add(new YamlSource.Problem(entry.line(), key.name() + ": expected at least one host:port,"
                    + " got an empty list"));
            return;
        }
        int line = entry.list() ? entry.line() : entry.values().get(0).line();
        try {
            Object value = key.parse(String.join(",", texts));
            values.put(key, new Config.Resolved(value, Origin.FILE, file + ":" + line));
        } catch (IllegalArgumentException e) {
            problems.add(new YamlSource.Problem(line, key.name() + ": " + e.getMessage()));
        }
    }

    /** Whether a value of the entry names an environment variable that is not set. */
    private boolean unresolved(YamlSource.Entry entry) {
        for (YamlSource.Scalar scalar : entry.values()) {
            Matcher m = ENV_REFERENCE.matcher(scalar.text());
            while (m.find()) {
                if (!env.containsKey(m.group(1))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Replaces each {@code ${env:NAME}} from the environment. */
    private String substitute(String text) {
        Matcher m = ENV_REFERENCE.matcher(text);
        StringBuilder out = new StringBuilder();
        List<String> missing = new ArrayList<>();
        while (m.find()) {
            String name = m.group(1);
            String value = env.get(name);
            if (value == null) {
                missing.add(name);
                value = "";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        if (missing.size() == 1) {
            throw new IllegalArgumentException("environment variable " + missing.get(0) + " is not set");
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("environment variables " + String.join(", ", missing)
                    + " are not set");
        }
        return out.toString();
    }

    private void readEnv(Map<Key<?>, Config.Resolved> values, List<String> problems) {
        for (Key<?> key : Keys.all()) {
            String raw = env.get(key.env());
            if (raw != null) {
                set(key, raw, Origin.ENV, key.env(), "env " + key.env(), values, problems);
            }
        }
        // An unknown RPCTL_ variable may belong to something else (a launcher, a test), so only
        // a near miss of a key's variable is worth a problem.
        Set<String> known = Keys.all().stream().map(Key::env).collect(Collectors.toSet());
        new TreeMap<>(env).keySet().stream()
                .filter(name -> name.startsWith("RPCTL_") && !known.contains(name) && !name.equals(CONFIG_ENV))
                .forEach(name -> Spelling.closest(name, known, 2).ifPresent(match -> problems.add(
                        "env " + name + ": unknown variable, did you mean " + match + "?")));
    }

    private void readFlags(Map<String, String> flags, Map<String, String> typed, Map<Key<?>, Config.Resolved> values,
                           List<String> problems) {
        for (Map.Entry<String, String> flag : new TreeMap<>(flags).entrySet()) {
            Optional<Key<?>> key = Keys.byName(flag.getKey());
            if (key.isEmpty()) {
                problems.add("flag --" + flag.getKey().replace('.', '-') + ": unknown key " + flag.getKey());
                continue;
            }
            Key<?> k = key.get();
            String name = typed.getOrDefault(k.name(), k.flag());
            set(k, flag.getValue(), Origin.FLAG, name, "flag " + name, values, problems);
        }
    }

    private static void set(Key<?> key, String raw, Origin origin, String where, String source,
                            Map<Key<?>, Config.Resolved> values, List<String> problems) {
        try {
            values.put(key, new Config.Resolved(key.parse(raw), origin, where));
        } catch (IllegalArgumentException e) {
            problems.add(source + ": " + key.name() + ": " + e.getMessage());
        }
    }

    /** Rules that involve more than one key, checked on the merged values. */
    private static void crossCheck(Map<Key<?>, Config.Resolved> values, List<String> problems) {
        Config.Resolved mechanism = values.get(Keys.KAFKA_SASL_MECHANISM);
        if (!((String) mechanism.value()).isBlank() && ((String) values.get(Keys.KAFKA_USER).value()).isBlank()) {
            problems.add(at(mechanism) + Keys.KAFKA_SASL_MECHANISM.name() + ": a SASL login needs "
                    + Keys.KAFKA_USER.name() + " (and " + Keys.KAFKA_PASSWORD.name() + ")");
        }
        for (Keys.SideKeys side : Keys.sides()) {
            Object mode = values.get(side.mode()).value();
            String masterName = (String) values.get(side.masterName()).value();
            if (mode == SideMode.SENTINEL && masterName.isBlank()) {
                problems.add(at(values.get(side.mode())) + side.mode().name() + ": sentinel mode needs "
                        + side.masterName().name() + ", the name the sentinels know the master by");
            }
            int database = (Integer) values.get(side.database()).value();
            if (mode == SideMode.CLUSTER && database != 0) {
                problems.add(at(values.get(side.database())) + side.database().name()
                        + ": must be 0 when " + side.mode().name() + " is cluster (a Redis Cluster has only"
                        + " database 0), got " + database);
            }
        }
    }

    /**
     * A TLS private key file (mysql, a side, kafka) that its group or others may read: warned
     * about, or a problem with {@code --strict-perms}, as a password in clear in the config file is.
     * A file that cannot be read is left to the connection, which names it.
     */
    private void exposedKeyFiles(Map<Key<?>, Config.Resolved> values, List<String> problems) {
        List<Key<String>> keyFiles = new ArrayList<>(List.of(Keys.MYSQL_TLS_KEY, Keys.KAFKA_TLS_KEY));
        Keys.sides().forEach(side -> keyFiles.add(side.tlsKey()));
        for (Key<String> key : keyFiles) {
            Config.Resolved r = values.get(key);
            String file = (String) r.value();
            if (file.isBlank()) {
                continue;
            }
            Set<PosixFilePermission> perms;
            try {
                perms = Files.getPosixFilePermissions(cwd.resolve(file));
            } catch (IOException | UnsupportedOperationException | java.nio.file.InvalidPathException e) {
                continue;
            }
            if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
                String message = key.name() + ": the private key " + file + " may be read by users other than its owner ("
                        + PosixFilePermissions.toString(perms) + "); chmod 600 it";
                if (strictPerms) {
                    problems.add(at(r) + message);
                } else {
                    LOG.warn("{}{}", at(r), message);
                }
            }
        }
    }

    private static String at(Config.Resolved r) {
        return switch (r.origin()) {
            case FILE -> r.where() + ": ";
            case ENV -> "env " + r.where() + ": ";
            case FLAG -> "flag " + r.where() + ": ";
            case DEFAULT -> "";
        };
    }
}
