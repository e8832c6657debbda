package dev.rpctl;

import dev.rpctl.cli.Cli;
import dev.rpctl.cli.RpctlCommand;
import dev.rpctl.config.Keys;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README is a manual: every rpctl command, option and configuration key it names exists. */
class ReadmeTest {
    /** An rpctl command line in a code block: from "rpctl " to the end of the line or a shell operator. */
    private static final Pattern IN_BLOCK = Pattern.compile("(^|\\$ |sudo |; |&& |\\| |\\$\\(|\\s)rpctl ((?:[^|;&>#\\n)]|&(?!&))*)");
    /** An rpctl command line in running text: a code span of its own. */
    private static final Pattern IN_TEXT = Pattern.compile("`rpctl ([^`]*)`");
    /** A backticked configuration key, e.g. `sync.on-bad-data`. */
    private static final Pattern KEY = Pattern.compile("`([a-z][a-z0-9-]*(?:\\.[a-z][a-z0-9-]*)+)`");

    private static List<String> readme() throws IOException {
        return Files.readAllLines(Path.of("README.md"));
    }

    /** The command line rpctl runs, with every subcommand and every option. */
    private static CommandLine model() {
        return Cli.commandLine(new RpctlCommand(Map.of(), Path.of("."), false));
    }

    /**
     * What is wrong with one invocation, or null: a subcommand or an option that does not exist.
     * A command line that is not {@code anchored} (rpctl in the middle of a code line, as a cron
     * file's user column or a Redis user's name) counts only when it starts with a command or option.
     */
    private static String check(CommandLine root, String args, boolean anchored) {
        List<String> tokens = new ArrayList<>(List.of(args.trim().split("\\s+")));
        if (!anchored && (tokens.isEmpty() || !(root.getSubcommands().containsKey(tokens.get(0))
                || tokens.get(0).startsWith("-")))) {
            return null;
        }
        CommandLine at = root;
        List<CommandSpec> path = new ArrayList<>(List.of(root.getCommandSpec()));
        boolean first = true;
        boolean expectSub = false;
        for (String t : tokens) {
            if (t.isEmpty()) {
                continue;
            }
            CommandLine sub = at.getSubcommands().get(t);
            if (sub != null && !t.startsWith("-")) {
                at = sub;
                path.add(sub.getCommandSpec());
                first = false;
                expectSub = true;
                continue;
            }
            // a word where a command is expected: after rpctl, or after a command that takes subcommands and no arguments
            boolean commandExpected = first && at == root || expectSub && !at.getSubcommands().isEmpty()
                    && at.getCommandSpec().positionalParameters().isEmpty();
            if (commandExpected && t.matches("[a-z][a-z-]+")) {
                return "no command \"" + t + "\"" + (at == root ? "" : " in \"" + at.getCommandSpec().qualifiedName() + "\"");
            }
            expectSub = false;
            first = false;
            if (t.startsWith("--") && t.length() > 2) {
                String name = t.split("=", 2)[0].replaceAll("[.,:)\\]]+$", "");
                if (path.stream().noneMatch(spec -> spec.findOption(name) != null)) {
                    return "no option " + name + " for \"" + path.get(path.size() - 1).qualifiedName() + "\"";
                }
            }
        }
        return null;
    }

    @Test
    void every_rpctl_command_line_it_shows_names_commands_and_options_that_exist() throws IOException {
        CommandLine root = model();
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        List<String> lines = readme();
        boolean block = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("```")) {
                block = !block;
                continue;
            }
            Matcher m = (block ? IN_BLOCK : IN_TEXT).matcher(line);
            while (m.find()) {
                String args = block ? m.group(2) : m.group(1);
                // in a block: at the line's start, after a prompt or a shell operator; not after a word
                String before = block ? m.group(1) : "";
                boolean anchored = !block || before.isEmpty() || !before.isBlank()
                        || line.substring(0, m.start(2) - "rpctl ".length()).isBlank();
                checked++;
                String problem = check(root, args, anchored);
                if (problem != null) {
                    wrong.add("README.md:" + (i + 1) + ": rpctl " + args.trim() + ": " + problem);
                }
            }
        }
        assertTrue(checked > 50, "only " + checked + " rpctl command lines found");
        assertEquals(List.of(), wrong, () -> String.join("\n", wrong));
    }

    @Test
    void the_check_finds_a_command_or_an_option_that_does_not_exist() {
        CommandLine root = model();
        assertEquals(null, check(root, "sync-daemon --side a --metrics 127.0.0.1:9100", true));
        assertEquals(null, check(root, "--json status", true));
        assertTrue(check(root, "sync-daemon --sides a", true).contains("--sides"));
        assertTrue(check(root, "reconsile --activity 7", true).contains("reconsile"));
        assertTrue(check(root, "db inti", true).contains("no command \"inti\" in \"rpctl db\""));
        assertEquals(null, check(root, "activity show --activity 7", true));
        // a cron line's user column
        assertEquals(null, check(root, "set -a", false));
    }

    @Test
    void every_configuration_key_it_names_exists() throws IOException {
        Set<String> keys = Keys.all().stream().map(k -> k.name()).collect(Collectors.toSet());
        // the sections, with side-X standing for side-a and side-b
        Set<String> sections = keys.stream().map(k -> k.substring(0, k.lastIndexOf('.')))
                .collect(Collectors.toCollection(TreeSet::new));
        sections.add("side-X");
        Set<String> wrong = new TreeSet<>();
        for (String line : readme()) {
            Matcher m = KEY.matcher(line);
            while (m.find()) {
                String name = m.group(1);
                int dot = name.lastIndexOf('.');
                String section = name.substring(0, dot);
                if (!sections.contains(section) || sections.contains(name)) {
                    continue;
                }
                if (!keys.contains(name.replace("side-X.", "side-a."))) {
                    wrong.add(name);
                }
            }
        }
        assertEquals(Set.of(), wrong);
    }
}
