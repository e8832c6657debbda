package dev.rpctl.cli;

import dev.rpctl.config.Key;
import dev.rpctl.config.Keys;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Writes the man pages from the picocli model and the key table, at build time: rpctl(1), one
 * page a subcommand (rpctl-activity-create(1), ...), and rpctl-config(5). The date is the
 * build's fixed one, so the same sources make the same pages.
 */
public final class ManPages {
    private static final String MANUAL = "rpctl manual";
    private static final String UNIT = "/etc/systemd/system/rpctl-sync.service";

    /** Examples per page, by the page's name; every page has some. */
    private static final Map<String, String[][]> EXAMPLES = Map.ofEntries(
            Map.entry("rpctl", new String[][] {
                    {"Create the schema, then look at one user on both cache sides:", "rpctl db init", "rpctl inspect --user 42 --activity 7"},
                    {"Work interactively, with completion and history:", "rpctl shell"}}),
            Map.entry("rpctl-config", new String[][] {{"Where each value comes from, secrets masked:", "rpctl config show"}}),
            Map.entry("rpctl-config-show", new String[][] {{"The effective configuration with a file and an override:",
                    "RPCTL_MYSQL_HOST=db1 rpctl --config /etc/rpctl/config.yaml config show"}}),
            Map.entry("rpctl-config-check", new String[][] {{"Check a file before installing it:", "rpctl --config new.yaml config check"}}),
            Map.entry("rpctl-db", new String[][] {{"Create or upgrade the schema:", "rpctl db init"}}),
            Map.entry("rpctl-db-init", new String[][] {{"Create or upgrade the schema, as JSON:", "rpctl db init --json"}}),
            Map.entry("rpctl-activity", new String[][] {{"The newest activities:", "rpctl activity list --limit 10"}}),
            Map.entry("rpctl-activity-create", new String[][] {{"1000 packets sharing 50000 cents at random:",
                    "rpctl activity create --activity 7 --count 1000 --amount 50000 --allocation random"}}),
            Map.entry("rpctl-activity-show", new String[][] {{"State and budget of activity 7:", "rpctl activity show --activity 7"}}),
            Map.entry("rpctl-activity-list", new String[][] {{"The 20 newest activities:", "rpctl activity list --limit 20"}}),
            Map.entry("rpctl-activity-pause", new String[][] {{"Refuse claims of activity 7 for now:", "rpctl activity pause --activity 7"}}),
            Map.entry("rpctl-activity-resume", new String[][] {{"Accept claims of activity 7 again:", "rpctl activity resume --activity 7"}}),
            Map.entry("rpctl-activity-close", new String[][] {{"Close activity 7 for good:", "rpctl activity close --activity 7"}}),
            Map.entry("rpctl-activity-extend", new String[][] {{"Move the end of activity 7:",
                    "rpctl activity extend --activity 7 --ends 2026-12-31T23:59:59Z"}}),
            Map.entry("rpctl-claim", new String[][] {
                    {"One claim, retried safely with the same request id:", "rpctl claim --activity 7 --user 42 --request-id order-991"},
                    {"A 30 s load of 16 threads with 10% duplicates, then check the invariants:",
                            "rpctl claim --activity 7 --users 1-100000 --concurrency 16 --duration 30s --duplicate-ratio 0.1 --verify"}}),
            Map.entry("rpctl-inspect", new String[][] {
                    {"One user on the primary and both sides, repaired where they differ:", "rpctl inspect --user 42 --activity 7 --repair"},
                    {"Any key, decoded on each side:", "rpctl inspect --key rp:claim:7:42"}}),
            Map.entry("rpctl-reconcile", new String[][] {
                    {"What changed in the last 15 minutes, reported only:", "rpctl reconcile --since 15m --dry-run"},
                    {"Activity 7 on side b, at most 5000 keys a second:", "rpctl reconcile --activity 7 --side b --rate 5000"}}),
            Map.entry("rpctl-warm", new String[][] {
                    {"The 100000 latest claimers of activity 7 and its Bloom filter:", "rpctl warm --activity 7 --top 100000 --bloom"},
                    {"Users from a file on side a:", "rpctl warm --activity 7 --users-file vip.txt --side a"}}),
            Map.entry("rpctl-sync-daemon", new String[][] {
                    {"Both pipelines, metrics on the default address:", "rpctl sync-daemon"},
                    {"After the checkpoint's binlog was purged:", "rpctl sync-daemon --from-now"}}),
            Map.entry("rpctl-status", new String[][] {{"The pipelines, as JSON for a monitoring check:", "rpctl status --json"}}),
            Map.entry("rpctl-pipeline", new String[][] {{"Every pipeline with a checkpoint:", "rpctl pipeline list"}}),
            Map.entry("rpctl-pipeline-list", new String[][] {{"Every pipeline with a checkpoint, as JSON:", "rpctl pipeline list --json"}}),
            Map.entry("rpctl-pipeline-drop", new String[][] {{"Retire the pipeline of a side that was renamed:", "rpctl pipeline drop old-b"}}),
            Map.entry("rpctl-shell", new String[][] {
                    {"Interactive:", "rpctl shell"},
                    {"A script, run to its end even when a line fails:", "printf 'status\\ninspect --user 42 --activity 7\\n' | rpctl shell --keep-going"}}),
            Map.entry("rpctl-completion", new String[][] {
                    {"Completion in this bash:", "source <(rpctl completion bash)"},
                    {"Completion in every zsh:", "rpctl completion zsh > /usr/share/zsh/vendor-completions/_rpctl"}}));

    private final String date;
    private final String version;

    private ManPages(String date, String version) {
        this.date = date;
        this.version = version;
    }

    /** Arguments: the man folder (man1/ and man5/ go below it), the build's date (yyyy-mm-dd, or a timestamp starting so). */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "man");
        if (args.length < 2 || !args[1].matches("\\d{4}-\\d\\d-\\d\\d.*")) {
            throw new IllegalArgumentException("give the build's date as yyyy-mm-dd, got " + Arrays.toString(args));
        }
        Properties build = new Properties();
        try (InputStream in = ManPages.class.getResourceAsStream("/dev/rpctl/version.properties")) {
            build.load(in);
        }
        String version = build.getProperty("version");
        ManPages pages = new ManPages(args[1].substring(0, 10), version);
        Files.createDirectories(dir.resolve("man1"));
        Files.createDirectories(dir.resolve("man5"));
        CommandLine model = Cli.commandLine(new RpctlCommand());
        pages.commands(dir.resolve("man1"), model);
        Files.writeString(dir.resolve("man5/rpctl-config.5"), pages.config());
    }

    private void commands(Path dir, CommandLine cl) throws IOException {
        Files.writeString(dir.resolve(name(cl.getCommandSpec()) + ".1"), command(cl.getCommandSpec()));
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!sub.getCommandName().equals("help")) {
                commands(dir, sub);
            }
        }
    }

    private static String name(CommandSpec spec) {
        return spec.qualifiedName("-");
    }

    String command(CommandSpec spec) {
        String name = name(spec);
        boolean root = spec.parent() == null;
        StringBuilder t = new StringBuilder();
        header(t, name, 1);
        String[] description = spec.usageMessage().description();
        section(t, "NAME").append(escape(name)).append(" \\- ").append(escape(firstSentence(description))).append('\n');
        section(t, "SYNOPSIS");
        t.append(".B ").append(escape(spec.qualifiedName())).append('\n');
        List<String> synopsis = new ArrayList<>();
        for (OptionSpec o : options(spec, false)) {
            synopsis.add((o.required() ? "" : "[") + "\\fB" + escape(o.longestName()) + "\\fR"
                    + (o.typeInfo().isBoolean() ? "" : " \\fI" + escape(o.paramLabel()) + "\\fR") + (o.required() ? "" : "]"));
        }
        for (PositionalParamSpec p : spec.positionalParameters()) {
            synopsis.add("\\fI" + escape(p.paramLabel()) + "\\fR");
        }
        if (!spec.subcommands().isEmpty()) {
            synopsis.add("\\fICOMMAND\\fR");
        }
        t.append(String.join("\n", synopsis)).append('\n');

        section(t, "DESCRIPTION");
        for (int i = 0; i < description.length; i++) {
            if (i > 0) {
                t.append(".PP\n");
            }
            t.append(escape(description[i])).append('\n');
        }
        if (!spec.subcommands().isEmpty()) {
            t.append(".SS Commands\n");
            spec.subcommands().forEach((sub, cl) -> {
                if (!sub.equals("help")) {
                    t.append(".TP\n\\fB").append(escape(sub)).append("\\fR\n")
                            .append(escape(firstSentence(cl.getCommandSpec().usageMessage().description())))
                            .append(" See \\fB").append(escape(name(cl.getCommandSpec()))).append("\\fR(1).\n");
                }
            });
        }

        section(t, "OPTIONS");
        for (OptionSpec o : options(spec, root)) {
            option(t, o);
        }
        if (root) {
            t.append(".TP\n\\fB\\-\\-\\fR\\fIKEY\\fR \\fIVALUE\\fR\n")
                    .append("Every configuration key is an option of every command: \\fB\\-\\-mysql\\-pool\\-size 8\\fR sets "
                            + "\\fBmysql.pool\\-size\\fR over \\fBRPCTL_MYSQL_POOL_SIZE\\fR and the file. "
                            + "The keys are in \\fBrpctl\\-config\\fR(5).\n");
        } else {
            t.append(".PP\nThe global options of \\fBrpctl\\fR(1) apply too: \\fB\\-\\-config\\fR, \\fB\\-\\-json\\fR, "
                    + "\\fB\\-\\-no\\-color\\fR, \\fB\\-v\\fR, \\fB\\-\\-stacktrace\\fR, and every configuration key as "
                    + "\\fB\\-\\-\\fR\\fIKEY\\fR (\\fBrpctl\\-config\\fR(5)).\n");
        }

        section(t, "EXIT STATUS");
        String[] footer = spec.usageMessage().footer();
        List<String> own = Arrays.stream(footer).filter(l -> !l.isBlank()).toList();
        if (!root && !own.isEmpty()) {
            t.append(escape(String.join(" ", own).replaceFirst("^Exit: ", ""))).append("\n.PP\n");
        }
        exitCodes(t, root);

        section(t, "ENVIRONMENT");
        environment(t, root);
        section(t, "FILES");
        files(t);
        section(t, "EXAMPLES");
        for (String[] example : EXAMPLES.getOrDefault(name, new String[0][])) {
            t.append(".PP\n").append(escape(example[0])).append("\n.PP\n.RS\n.nf\n");
            for (int i = 1; i < example.length; i++) {
                t.append(escape(example[i])).append('\n');
            }
            t.append(".fi\n.RE\n");
        }
        section(t, "SEE ALSO");
        List<String> see = new ArrayList<>();
        if (!root) {
            see.add("\\fBrpctl\\fR(1)");
        }
        if (spec.parent() != null && spec.parent().parent() != null) {
            see.add("\\fB" + escape(name(spec.parent())) + "\\fR(1)");
        }
        spec.subcommands().forEach((sub, cl) -> {
            if (!sub.equals("help")) {
                see.add("\\fB" + escape(name(cl.getCommandSpec())) + "\\fR(1)");
            }
        });
        see.add("\\fBrpctl\\-config\\fR(5)");
        if (root || name.equals("rpctl-sync-daemon")) {
            see.add("\\fBsystemctl\\fR(1)");
        }
        t.append(String.join(",\n", see)).append('\n');
        return t.toString();
    }

    /** rpctl-config(5): the configuration file, one entry a key of the key table. */
    String config() {
        StringBuilder t = new StringBuilder();
        header(t, "rpctl-config", 5);
        section(t, "NAME").append("rpctl\\-config \\- the configuration of rpctl: file, environment and options\n");
        section(t, "SYNOPSIS").append(".B /etc/rpctl/config.yaml\n");
        section(t, "DESCRIPTION")
                .append("rpctl reads one YAML file: \\fB\\-\\-config\\fR \\fIFILE\\fR, else \\fB$RPCTL_CONFIG\\fR, else "
                        + "\\fB./rpctl.yaml\\fR, else \\fB/etc/rpctl/config.yaml\\fR, the first that exists. "
                        + "A key is a dotted path, \\fBmysql.pool\\-size\\fR being\n.PP\n.RS\n.nf\nmysql:\n  pool\\-size: 16\n.fi\n.RE\n.PP\n"
                        + "Each key is also the environment variable \\fBRPCTL_\\fR followed by its name in upper case with "
                        + "dots and dashes as underscores (\\fBRPCTL_MYSQL_POOL_SIZE\\fR), and the option "
                        + "\\fB\\-\\-\\fR followed by its name with dots as dashes (\\fB\\-\\-mysql\\-pool\\-size\\fR). "
                        + "Options win over the environment, which wins over the file, which wins over the defaults. "
                        + "A value in the file may be \\fB${env:\\fR\\fINAME\\fR\\fB}\\fR, the variable's value: "
                        + "give secrets that way or through the environment, never in the file. "
                        + "A bad file is refused with exit status 78, naming the file, line and key of every problem at once. "
                        + "\\fBrpctl config show\\fR prints the effective values, secrets masked, with where each came from.\n");
        section(t, "KEYS");
        String group = "";
        for (Key<?> key : Keys.all()) {
            String g = key.name().substring(0, key.name().indexOf('.'));
            if (!g.equals(group)) {
                t.append(".SS ").append(escape(g)).append('\n');
                group = g;
            }
            keyEntry(t, key, true);
        }
        section(t, "ENVIRONMENT");
        environment(t, false);
        section(t, "FILES");
        files(t);
        section(t, "EXAMPLES");
        t.append(".PP\nTwo cache sides, the second a Redis Cluster, the password from the environment:\n.PP\n.RS\n.nf\n")
                .append("mysql:\n  host: db1.internal\n  password: ${env:RPCTL_DB_PASSWORD}\n")
                .append("side\\-a:\n  nodes: [\"redis\\-a.internal:6379\"]\n")
                .append("side\\-b:\n  mode: cluster\n  nodes: [\"redis\\-b1.internal:7000\", \"redis\\-b2.internal:7000\"]\n")
                .append(".fi\n.RE\n");
        section(t, "SEE ALSO").append("\\fBrpctl\\fR(1),\n\\fBrpctl\\-config\\-show\\fR(1),\n\\fBrpctl\\-config\\-check\\fR(1)\n");
        return t.toString();
    }

    private void header(StringBuilder t, String name, int section) {
        t.append(".TH \"").append(escape(name.toUpperCase())).append("\" \"").append(section).append("\" \"").append(date)
                .append("\" \"rpctl ").append(escape(version)).append("\" \"").append(MANUAL).append("\"\n");
        t.append(".nh\n.ad l\n");
    }

    private static StringBuilder section(StringBuilder t, String title) {
        return t.append(".SH \"").append(title).append("\"\n");
    }

    /** The options a page lists: the command's own, and on rpctl(1) the global ones; hidden ones never. */
    private static List<OptionSpec> options(CommandSpec spec, boolean root) {
        return spec.options().stream().filter(o -> !o.hidden() && (root || !o.inherited() && !isGlobal(o))).toList();
    }

    private static boolean isGlobal(OptionSpec o) {
        return o.scopeType() == CommandLine.ScopeType.INHERIT;
    }

    private static void option(StringBuilder t, OptionSpec o) {
        t.append(".TP\n");
        List<String> names = Arrays.stream(o.names()).map(n -> "\\fB" + escape(n) + "\\fR").toList();
        t.append(String.join(", ", names));
        if (!o.typeInfo().isBoolean() && !(o.typeInfo().isArray() && o.typeInfo().getAuxiliaryTypes()[0] == boolean.class)) {
            t.append(" \\fI").append(escape(o.paramLabel())).append("\\fR");
        }
        t.append('\n').append(escape(String.join(" ", o.description()))).append('\n');
    }

    private static void exitCodes(StringBuilder t, boolean root) {
        String[][] codes = {
                {"0", "done, and everything checked was consistent"},
                {"1", "done, and differences were found (inspect, reconcile \\-\\-dry\\-run, claim \\-\\-verify)"},
                {"64", "usage error: a bad option or value"},
                {"65", "bad data: an undecodable cache entry or binlog event under the fail policy"},
                {"69", "a server (MySQL, Redis, Kafka) is unreachable"},
                {"70", "internal error (a bug: rerun with \\-\\-stacktrace and report it)"},
                {"75", "temporary: another daemon holds the pipeline lock, or the work was interrupted and can resume"},
                {"77", "permission denied"},
                {"78", "configuration error"},
                {"130, 143", "stopped by SIGINT (Ctrl\\-C) or SIGTERM"}};
        for (String[] c : codes) {
            t.append(".TP\n.B ").append(c[0]).append('\n').append(c[1]).append('\n');
        }
    }

    private static void environment(StringBuilder t, boolean everyKey) {
        String[][] general = {
                {"RPCTL_CONFIG", "The configuration file, when \\-\\-config is not given."},
                {"RPCTL_LOGBACK", "A logback configuration file used instead of the built\\-in one (as \\-Dlogback.configurationFile)."},
                {"NO_COLOR", "When set to anything but the empty string, no colour."},
                {"XDG_STATE_HOME", "Where \\fBrpctl shell\\fR keeps its history (rpctl/history below it); ~/.local/state when unset."},
                {"JAVA_OPTS", "Options of the Java virtual machine, e.g. \\-Xmx256m."}};
        for (String[] g : general) {
            t.append(".TP\n.B ").append(g[0]).append('\n').append(g[1]).append('\n');
        }
        if (!everyKey) {
            t.append(".TP\n\\fBRPCTL_\\fR\\fIKEY\\fR\nEvery configuration key, e.g. \\fBRPCTL_MYSQL_HOST\\fR for \\fBmysql.host\\fR; "
                    + "each is listed in \\fBrpctl\\fR(1) and \\fBrpctl\\-config\\fR(5).\n");
            return;
        }
        for (Key<?> key : Keys.all()) {
            keyEntry(t, key, false);
        }
    }

    /** One key: under its file name in rpctl-config(5), under its variable in rpctl(1). */
    private static void keyEntry(StringBuilder t, Key<?> key, boolean byFileName) {
        t.append(".TP\n\\fB").append(escape(byFileName ? key.name() : key.env())).append("\\fR (")
                .append(escape(key.typeName()));
        String dflt = key.renderedDefault();
        t.append(dflt.isEmpty() || key.secret() ? ", no default" : ", default \\fB" + escape(dflt) + "\\fR").append(")\n");
        t.append(escape(key.description())).append(' ');
        t.append(byFileName ? "Environment \\fB" + escape(key.env()) + "\\fR, option \\fB" + escape(key.flag()) + "\\fR."
                : "Key \\fB" + escape(key.name()) + "\\fR, option \\fB" + escape(key.flag()) + "\\fR.").append('\n');
    }

    private static void files(StringBuilder t) {
        String[][] files = {
                {"./rpctl.yaml", "The configuration file, when neither \\-\\-config nor RPCTL_CONFIG names one."},
                {"/etc/rpctl/config.yaml", "The configuration file when there is no ./rpctl.yaml (\\fBrpctl\\-config\\fR(5))."},
                {"/etc/rpctl/env", "Secrets (RPCTL_MYSQL_PASSWORD, RPCTL_SIDE_A_PASSWORD, ...) for the systemd unit, mode 0600."},
                {UNIT, "The systemd unit of \\fBrpctl sync\\-daemon\\fR."},
                {"$XDG_STATE_HOME/rpctl/history", "The history of \\fBrpctl shell\\fR (~/.local/state/rpctl/history when XDG_STATE_HOME is unset)."}};
        for (String[] f : files) {
            t.append(".TP\n.I ").append(escape(f[0])).append('\n').append(f[1]).append('\n');
        }
    }

    private static String firstSentence(String[] description) {
        if (description.length == 0) {
            return "";
        }
        String d = description[0];
        int end = d.indexOf(". ");
        String first = end < 0 ? d : d.substring(0, end + 1);
        return first.endsWith(".") ? first.substring(0, first.length() - 1) : first;
    }

    /** Text as troff reads it literally: backslashes, hyphens of options, and a leading dot or quote. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\e");
                case '-' -> b.append("\\-");
                case '\n' -> b.append(' ');
                default -> {
                    if (c > 126) {
                        b.append(String.format("\\[u%04X]", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        String out = b.toString();
        return out.startsWith(".") || out.startsWith("'") ? "\\&" + out : out;
    }
}
