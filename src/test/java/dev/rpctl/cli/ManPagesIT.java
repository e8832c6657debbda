package dev.rpctl.cli;

import dev.rpctl.config.Key;
import dev.rpctl.config.Keys;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The man pages the build writes into man/, read as man and groff read them. */
class ManPagesIT {
    private static final Path MAN = Path.of("man").toAbsolutePath();

    /** rpctl.1 and one page for each command and subcommand of the model, and rpctl-config.5. */
    private static List<Path> pages() {
        List<Path> pages = new ArrayList<>();
        collect(Cli.commandLine(new RpctlCommand(Map.of(), Path.of("."), false)), pages);
        pages.add(MAN.resolve("man5/rpctl-config.5"));
        return pages;
    }

    private static void collect(picocli.CommandLine cl, List<Path> pages) {
        pages.add(MAN.resolve("man1/" + cl.getCommandSpec().qualifiedName("-") + ".1"));
        cl.getSubcommands().values().stream().filter(s -> !s.getCommandName().equals("help")).forEach(s -> collect(s, pages));
    }

    /** stdout then stderr of a command, which must exit 0. */
    private static String[] run(String... cmd) throws Exception {
        Path out = Files.createTempFile("man", ".out");
        Path err = Files.createTempFile("man", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("MANWIDTH", "80");
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String[] result = {Files.readString(out), Files.readString(err)};
        Files.delete(out);
        Files.delete(err);
        assertEquals(0, p.exitValue(), String.join("\n", result));
        return result;
    }

    @Test
    void every_page_renders_without_a_warning() throws Exception {
        List<Path> pages = pages();
        assertTrue(pages.contains(MAN.resolve("man1/rpctl-shell.1")) && pages.contains(MAN.resolve("man1/rpctl-activity-create.1")));
        for (Path page : pages) {
            assertTrue(Files.exists(page), page + " missing");
            assertEquals("", run("groff", "-ww", "-z", "-man", page.toString())[1], page.toString());
            String[] man = run("man", "-l", page.toString());
            assertEquals("", man[1], page.toString());
            assertTrue(man[0].contains("NAME") && man[0].contains("SEE ALSO"), man[0]);
        }
    }

    @Test
    void each_command_page_has_the_sections_an_operator_looks_for() throws Exception {
        for (Path page : pages().subList(0, pages().size() - 1)) {
            String text = run("man", "-l", page.toString())[0];
            for (String section : new String[] {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES",
                    "EXAMPLES", "SEE ALSO"}) {
                assertTrue(text.lines().anyMatch(l -> l.equals(section)), page + " lacks " + section + ":\n" + text);
            }
            assertTrue(text.contains("/etc/rpctl/config.yaml") && text.contains("rpctl-sync.service"), page.toString());
            assertTrue(text.contains("78     configuration error"), page.toString());
            // an example is a command line
            String examples = text.substring(text.indexOf("\nEXAMPLES\n"), text.indexOf("\nSEE ALSO\n"));
            assertTrue(examples.lines().anyMatch(l -> l.matches("\\s{14}(.*\\s)?rpctl .*")), page + ":\n" + examples);
        }
        String inspect = run("man", "-l", MAN.resolve("man1/rpctl-inspect.1").toString())[0];
        assertTrue(inspect.contains("--user U\n              User id."), inspect);
    }

    @Test
    void every_configuration_key_is_documented_in_rpctl_1_and_rpctl_config_5() throws Exception {
        String root = run("man", "-l", MAN.resolve("man1/rpctl.1").toString())[0];
        String config = Files.readString(MAN.resolve("man5/rpctl-config.5"));
        for (Key<?> key : Keys.all()) {
            assertTrue(root.contains(key.env() + " ("), key.env() + " missing from rpctl(1)");
            assertTrue(config.contains("\\fB" + ManPages.escape(key.name()) + "\\fR (" + ManPages.escape(key.typeName())),
                    key.name() + " missing from rpctl-config(5)");
        }
    }

    @Test
    void every_page_carries_the_builds_date_not_the_day_it_was_made() throws Exception {
        Matcher stamp = Pattern.compile("<project.build.outputTimestamp>(\\d{4}-\\d\\d-\\d\\d)").matcher(Files.readString(Path.of("pom.xml")));
        assertTrue(stamp.find());
        for (Path page : pages()) {
            String th = Files.readString(page).lines().filter(l -> l.startsWith(".TH ")).findFirst().orElseThrow();
            assertTrue(th.contains("\"" + stamp.group(1) + "\""), page + ": " + th);
        }
    }
}
