package dev.rpctl.cli;

import dev.rpctl.app.App;
import dev.rpctl.config.Config;
import dev.rpctl.config.ConfigLoader;
import dev.rpctl.config.Key;
import dev.rpctl.config.Keys;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The root command: global options, and the process's configuration and wiring, built on first use. */
@Command(name = "rpctl",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = "Keeps the Redis caches of a red-packet claim system consistent with MySQL.",
        footerHeading = "%nExit codes:%n",
        footer = {
                "  0   done, and everything checked was consistent",
                "  1   done, and differences were found",
                "  64  usage error",
                "  65  bad data (undecodable cache entry or binlog event)",
                "  69  a server (MySQL, Redis, Kafka) is unreachable",
                "  70  internal error",
                "  75  temporary: retry later",
                "  77  permission denied (a server refuses a command to the configured user)",
                "  78  configuration error",
                "",
                "Every configuration key is also an option: --mysql-pool-size N sets mysql.pool-size,",
                "over RPCTL_MYSQL_POOL_SIZE and the file ('rpctl config show' lists the keys)."})
public final class RpctlCommand implements Runnable {
    /**
     * The subcommands, in the order help lists them. Not in the annotation: a command line builds
     * only the ones it names (see {@link Cli#commandLine(RpctlCommand, String...)}).
     */
    static final List<Class<?>> SUBCOMMANDS = List.of(
            ConfigCommand.class,
            DbCommand.class,
            ActivityCommand.class,
            ClaimCommand.class,
            InspectCommand.class,
            ReconcileCommand.class,
            WarmCommand.class,
            SyncDaemonCommand.class,
            StatusCommand.class,
            PipelineCommand.class,
            ShellCommand.class,
            CompletionCommand.class,
            CommandLine.HelpCommand.class);

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", scope = ScopeType.INHERIT, order = 1,
            description = "Configuration file (default: $RPCTL_CONFIG, ./rpctl.yaml, /etc/rpctl/config.yaml).")
    Path configFile;

    @Option(names = "--json", scope = ScopeType.INHERIT, order = 2, description = "Print JSON instead of tables.")
    boolean json;

    @Option(names = "--no-color", scope = ScopeType.INHERIT, order = 3,
            description = "No colour (also when NO_COLOR is set or output is not a terminal).")
    boolean noColor;

    @Option(names = "-v", scope = ScopeType.INHERIT, order = 4,
            description = "More log output on stderr: -v servers, pool events and timings; -vv also SQL and Redis script calls; -vvv everything.")
    boolean[] verbosity = new boolean[0];

    @Option(names = "--stacktrace", scope = ScopeType.INHERIT, order = 5,
            description = "Print the stack trace of a failure.")
    boolean stacktrace;

    @Option(names = "--strict-perms", scope = ScopeType.INHERIT, order = 6,
            description = "Refuse (78) a config file that holds a password in clear and others may read, instead of warning.")
    boolean strictPerms;

    private final Map<String, String> env;
    private final Path cwd;
    private final boolean terminal;
    private final InputStream in;
    /** The shell's root when this is one line of {@code rpctl shell}: its configuration and connections serve the line. */
    private final RpctlCommand shell;
    private final SeenIds seenIds = new SeenIds();
    private final Map<String, String> flagSettings = new LinkedHashMap<>();
    private final Map<String, String> typedFlags = new LinkedHashMap<>();
    private Config config;
    private App app;
    private Output output;

    /**
     * Adds a hidden option for every configuration key ({@code --mysql-pool-size} for
     * mysql.pool-size), generated from the key table, inherited by every subcommand.
     */
    void addKeyOptions(CommandSpec root) {
        for (Key<?> key : Keys.all()) {
            root.addOption(CommandLine.Model.OptionSpec.builder(key.flag())
                    .paramLabel(key.secret() ? "SECRET" : "VALUE")
                    .type(String.class)
                    .arity("1")
                    .hidden(true)
                    .scopeType(ScopeType.INHERIT)
                    .description(key.description())
                    .setter(new CommandLine.Model.ISetter() {
                        @Override
                        public <T> T set(T value) {
                            if (value != null) {
                                flagSettings.put(key.name(), value.toString());
                            }
                            return null;
                        }
                    })
                    .getter(new CommandLine.Model.IGetter() {
                        @Override
                        @SuppressWarnings("unchecked")
                        public <T> T get() {
                            return (T) flagSettings.get(key.name());
                        }
                    })
                    .build());
        }
    }

    /** For tools that build the command model by reflection (completion, man pages). */
    public RpctlCommand() {
        this(System.getenv(), Path.of("").toAbsolutePath(), false);
    }

    public RpctlCommand(Map<String, String> env, Path cwd, boolean terminal) {
        this(env, cwd, terminal, System.in, null);
    }

    RpctlCommand(Map<String, String> env, Path cwd, boolean terminal, InputStream in, RpctlCommand shell) {
        this.env = env;
        this.cwd = cwd;
        this.terminal = terminal;
        this.in = in;
        this.shell = shell;
    }

    /** One line of the shell: same environment and terminal, the shell's global options as defaults. */
    RpctlCommand line() {
        return new RpctlCommand(env, cwd, terminal, in, this);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command; 'rpctl --help' lists them");
    }

    public Map<String, String> env() {
        return env;
    }

    public Path cwd() {
        return cwd;
    }

    public boolean terminal() {
        return terminal;
    }

    /** The ids the shell offers again in completion; a line adds to its shell's. */
    SeenIds seenIds() {
        return shell != null ? shell.seenIds() : seenIds;
    }

    /** Ids a command showed (an activity list), for the shell's completion of the option that takes them. */
    void seen(String option, List<Long> ids) {
        seenIds().add(option, ids);
    }

    /** Whether this is one line of {@code rpctl shell}. */
    boolean inShell() {
        return shell != null;
    }

    /** Standard input, where the shell reads a script. */
    public InputStream in() {
        return in;
    }

    public int verbosity() {
        return Math.max(verbosity.length, shell == null ? 0 : shell.verbosity());
    }

    public boolean stacktrace() {
        return stacktrace || (shell != null && shell.stacktrace());
    }

    boolean json() {
        return json || (shell != null && shell.json());
    }

    /** A configuration key set by a command's own flag; flags win over environment and file. */
    public void setting(String key, String value) {
        if (config != null) {
            throw new IllegalStateException("configuration already loaded");
        }
        flagSettings.put(key, value);
    }

    /** As {@link #setting(String, String)}, by an option other than the key's own ({@code --metrics}), which problems then name. */
    public void setting(String key, String value, String typedFlag) {
        setting(key, value);
        typedFlags.put(key, typedFlag);
    }

    public Config config() {
        if (config == null && sharesShell()) {
            return shell.config();
        }
        if (config == null) {
            Path file = configFile;
            Map<String, String> flags = flagSettings;
            Map<String, String> typed = typedFlags;
            if (shell != null) {
                // a line's own file and keys go over the shell's
                file = file != null ? file : shell.configFile;
                flags = new LinkedHashMap<>(shell.flagSettings);
                flags.putAll(flagSettings);
                typed = new LinkedHashMap<>(shell.typedFlags);
                typed.putAll(typedFlags);
            }
            config = new ConfigLoader(env, cwd).strictPerms(strictPerms).load(file, flags, typed);
            Cli.logFormat(config.logFormat());
        }
        return config;
    }

    public App app() {
        if (app == null && sharesShell()) {
            return shell.app();
        }
        if (app == null) {
            app = new App(config());
        }
        return app;
    }

    /**
     * Whether this shell line runs on the shell's configuration and open connections: yes unless
     * it names a file or a key of its own, which then serve this line alone.
     */
    private boolean sharesShell() {
        return shell != null && configFile == null && flagSettings.isEmpty();
    }

    public Output output() {
        if (output == null) {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            output = new Output(out, err, json(), colorOn());
        }
        return output;
    }

    boolean colorOn() {
        // NO_COLOR counts when set to anything but the empty string (no-color.org)
        return terminal && !noColor && !(shell != null && shell.noColor) && env.getOrDefault("NO_COLOR", "").isEmpty();
    }

    boolean appOpen() {
        return app != null || (sharesShell() && shell.appOpen());
    }

    void closeApp() {
        if (app != null) {
            app.close();
            app = null;
        }
    }
}
