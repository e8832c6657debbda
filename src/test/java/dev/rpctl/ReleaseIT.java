package dev.rpctl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The release tarball that {@code mvn package} leaves in target/, as an operator receives it:
 * unpacked into a folder of its own, run from there, and installed under a prefix.
 */
class ReleaseIT {
    @TempDir
    Path tmp;

    record Run(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static String version() throws IOException {
        Properties p = new Properties();
        try (InputStream in = ReleaseIT.class.getResourceAsStream("/dev/rpctl/version.properties")) {
            p.load(in);
        }
        return p.getProperty("version");
    }

    /** The tarball unpacked into tmp/unpacked; returns its top folder, rpctl-VERSION. */
    private Path unpack() throws Exception {
        String version = version();
        Path tarball = Path.of("target", "rpctl-" + version + ".tar.gz").toAbsolutePath();
        assertTrue(Files.isRegularFile(tarball), "mvn package makes " + tarball);
        Path into = Files.createDirectories(tmp.resolve("unpacked"));
        Run r = run(Map.of(), into, "tar", "xzf", tarball.toString());
        assertEquals(0, r.exitCode(), r::toString);
        return into.resolve("rpctl-" + version);
    }

    private static Run run(Map<String, String> env, Path dir, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        // the launcher runs against nothing: no configuration of the checkout's services leaks in
        pb.environment().keySet().removeIf(k -> k.startsWith("RPCTL_") || k.equals("JAVA_OPTS"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("run", ".out");
        Path err = Files.createTempFile("run", ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "finished: " + String.join(" ", command));
        Run r = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    private static List<Path> manPages(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.getFileName().toString().matches("rpctl.*\\.[1-9]")).sorted().toList();
        }
    }

    @Test
    void the_tarball_holds_launcher_jars_pages_completions_config_units_and_cron() throws Exception {
        Path top = unpack();
        assertTrue(Files.isExecutable(top.resolve("bin/rpctl")));
        assertTrue(Files.isExecutable(top.resolve("install.sh")));
        for (String f : List.of("lib/rpctl.jar", "lib/picocli-4.7.7.jar", "man/man1/rpctl.1", "man/man1/rpctl-sync-daemon.1",
                "completions/rpctl.bash", "completions/_rpctl", "config.example.yaml", "README.md",
                "systemd/rpctl-sync.service", "systemd/rpctl-sync@.service", "systemd/rpctl-reconcile.service",
                "systemd/rpctl-reconcile.timer", "cron/rpctl")) {
            assertTrue(Files.isRegularFile(top.resolve(f)), "the tarball holds " + f);
        }
    }

    @Test
    void every_page_a_unit_names_in_documentation_is_in_the_tarball() throws Exception {
        Path top = unpack();
        List<Path> units;
        try (Stream<Path> files = Files.list(top.resolve("systemd"))) {
            units = files.sorted().toList();
        }
        assertFalse(units.isEmpty());
        for (Path unit : units) {
            for (String line : Files.readAllLines(unit)) {
                if (line.startsWith("Documentation=")) {
                    for (String doc : line.substring("Documentation=".length()).split(" ")) {
                        java.util.regex.Matcher m = java.util.regex.Pattern.compile("man:([a-z-]+)\\(([1-9])\\)").matcher(doc);
                        assertTrue(m.matches(), unit + ": " + doc);
                        Path page = top.resolve("man/man" + m.group(2) + "/" + m.group(1) + "." + m.group(2));
                        assertTrue(Files.isRegularFile(page), unit.getFileName() + " names " + doc + ", which the tarball lacks");
                    }
                }
            }
        }
    }

    @Test
    void unpacked_anywhere_its_launcher_prints_version_and_help() throws Exception {
        Path top = unpack();
        // run from an unrelated folder, through a path that is not the checkout's
        Run version = run(Map.of(), tmp, top.resolve("bin/rpctl").toString(), "--version");
        assertEquals(0, version.exitCode(), version::toString);
        assertTrue(version.out().startsWith("rpctl " + version() + " (commit "), version::toString);
        assertEquals("", version.err(), version::toString);
        Run help = run(Map.of(), tmp, top.resolve("bin/rpctl").toString(), "--help");
        assertEquals(0, help.exitCode(), help::toString);
        assertTrue(help.out().startsWith("Usage: rpctl"), help::toString);
        assertTrue(help.out().contains("sync-daemon"), help::toString);
        assertEquals("", help.err(), help::toString);
    }

    @Test
    void the_launcher_makes_its_archive_on_request_and_refuses_an_unknown_rpctl_cds_with_64() throws Exception {
        Path top = unpack();
        Run make = run(Map.of("RPCTL_CDS", "make"), tmp, top.resolve("bin/rpctl").toString());
        assertEquals(0, make.exitCode(), make::toString);
        assertTrue(Files.size(top.resolve("lib/rpctl.jsa")) > 0);
        Run shared = run(Map.of("JAVA_OPTS", "-Xshare:on"), tmp, top.resolve("bin/rpctl").toString(), "--version");
        assertEquals(0, shared.exitCode(), shared::toString);
        Run off = run(Map.of("RPCTL_CDS", "off"), tmp, top.resolve("bin/rpctl").toString(), "--version");
        assertEquals(0, off.exitCode(), off::toString);
        Run bad = run(Map.of("RPCTL_CDS", "yes"), tmp, top.resolve("bin/rpctl").toString(), "--version");
        assertEquals(64, bad.exitCode(), bad::toString);
        assertEquals("rpctl: RPCTL_CDS must be auto, off or make, got 'yes'\n", bad.err());
    }

    @Test
    void one_shot_commands_start_on_the_quick_tier_and_the_long_ones_keep_the_jvm_defaults() throws Exception {
        Path top = unpack();
        Map<String, String> flags = Map.of("JAVA_OPTS", "-XX:+PrintCommandLineFlags");
        Run status = run(flags, tmp, top.resolve("bin/rpctl").toString(), "status", "--help");
        assertEquals(0, status.exitCode(), status::toString);
        assertTrue(status.out().contains("-XX:TieredStopAtLevel=1") && status.out().contains("-XX:+UseSerialGC"), status::toString);
        for (String command : List.of("sync-daemon", "claim", "reconcile", "warm")) {
            Run r = run(flags, tmp, top.resolve("bin/rpctl").toString(), command, "--help");
            assertEquals(0, r.exitCode(), r::toString);
            assertFalse(r.out().contains("TieredStopAtLevel") || r.out().contains("UseSerialGC"), r::toString);
        }
    }

    @Test
    void every_man_page_of_the_tarball_renders_with_man_l_and_no_warning() throws Exception {
        Path top = unpack();
        List<Path> pages = manPages(top.resolve("man"));
        assertFalse(pages.isEmpty());
        for (Path page : pages) {
            Run man = run(Map.of("MANPAGER", "cat", "PAGER", "cat", "MANWIDTH", "100"), top, "man", "-l", page.toString());
            assertEquals(0, man.exitCode(), () -> page + ": " + man);
            assertTrue(man.out().contains("NAME"), () -> page + ": " + man);
            Run groff = run(Map.of(), top, "groff", "-man", "-ww", "-z", page.toString());
            assertEquals("", groff.err(), () -> page + ": " + groff);
        }
    }

    @Test
    void install_puts_pages_and_completions_where_man_and_the_shells_look_and_makes_the_archive() throws Exception {
        Path top = unpack();
        Path prefix = tmp.resolve("prefix");
        Run install = run(Map.of(), tmp, top.resolve("install.sh").toString(), prefix.toString());
        assertEquals(0, install.exitCode(), install::toString);

        // the link on PATH runs the installed launcher
        Run version = run(Map.of(), tmp, prefix.resolve("bin/rpctl").toString(), "--version");
        assertEquals(0, version.exitCode(), version::toString);
        assertTrue(version.out().startsWith("rpctl " + version() + " (commit "), version::toString);

        // man finds every page under PREFIX/share/man
        for (Path page : manPages(top.resolve("man"))) {
            String name = page.getFileName().toString();
            String section = name.substring(name.lastIndexOf('.') + 1);
            Run where = run(Map.of("MANPATH", prefix.resolve("share/man").toString()), tmp, "man", "-w", section,
                    name.substring(0, name.lastIndexOf('.')));
            assertEquals(0, where.exitCode(), () -> name + ": " + where);
            assertEquals(prefix.resolve("share/man/man" + section + "/" + name).toString(), where.out().strip());
        }

        // bash-completion and zsh find their files by these names
        Path bash = prefix.resolve("share/bash-completion/completions/rpctl");
        assertTrue(Files.isRegularFile(bash));
        Run complete = run(Map.of(), tmp, "bash", "-c", "source " + bash + " && complete -p rpctl");
        assertEquals(0, complete.exitCode(), complete::toString);
        assertTrue(complete.out().contains("rpctl"), complete::toString);
        assertTrue(Files.isRegularFile(prefix.resolve("share/zsh/site-functions/_rpctl")));

        // the units run the installed launcher
        String unit = Files.readString(prefix.resolve("lib/systemd/system/rpctl-sync.service"));
        assertTrue(unit.contains("ExecStart=" + prefix.resolve("bin/rpctl") + " sync-daemon\n"), unit);

        // the archive made for this path is used: -Xshare:on refuses to start without a valid one
        Run shared = run(Map.of("JAVA_OPTS", "-Xshare:on"), tmp, prefix.resolve("bin/rpctl").toString(), "--version");
        assertEquals(0, shared.exitCode(), shared::toString);
    }

    @Test
    void an_archive_made_for_another_path_is_ignored_without_a_word() throws Exception {
        Path top = unpack();
        Path prefix = tmp.resolve("prefix");
        Run install = run(Map.of(), tmp, top.resolve("install.sh").toString(), prefix.toString());
        assertEquals(0, install.exitCode(), install::toString);
        // the installed archive beside the unpacked jars: valid for the JDK, not for this class path
        Files.copy(prefix.resolve("lib/rpctl/lib/rpctl.jsa"), top.resolve("lib/rpctl.jsa"));
        Run version = run(Map.of(), tmp, top.resolve("bin/rpctl").toString(), "--version");
        assertEquals(0, version.exitCode(), version::toString);
        assertEquals("", version.err(), version::toString);
        assertTrue(version.out().startsWith("rpctl " + version() + " (commit "), version::toString);
        Run strict = run(Map.of("JAVA_OPTS", "-Xshare:on"), tmp, top.resolve("bin/rpctl").toString(), "--version");
        assertEquals(1, strict.exitCode(), "the JVM does refuse that archive: " + strict);
    }
}
