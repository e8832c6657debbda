package dev.rpctl.cli;

import dev.rpctl.Rpctl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The completion scripts the build writes into completions/, run in a real bash and a real zsh. */
class CompletionScriptsIT {
    private static final Path BASH = Path.of("completions/rpctl.bash").toAbsolutePath();
    private static final Path ZSH = Path.of("completions/_rpctl").toAbsolutePath();

    @TempDir
    Path dir;

    private String run(Path cwd, String... cmd) throws Exception {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "no answer from " + Arrays.toString(cmd));
        assertEquals(0, p.exitValue(), Files.readString(out));
        return Files.readString(out);
    }

    /** What bash's completion offers for the last of the words typed after rpctl. */
    private List<String> bash(String... typed) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "source \"$0\"; COMP_WORDS=(rpctl \"$@\"); COMP_CWORD=$#;"
                + " COMP_LINE=\"rpctl $*\"; COMP_POINT=${#COMP_LINE};"
                + " _complete_rpctl rpctl \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"; printf '%s\\n' \"${COMPREPLY[@]}\"",
                BASH.toString()));
        cmd.addAll(List.of(typed));
        return run(dir, cmd.toArray(String[]::new)).lines().filter(l -> !l.isEmpty()).sorted().toList();
    }

    @Test
    void bash_completes_commands_options_and_option_values_in_lower_case() throws Exception {
        assertEquals(List.of("reconcile"), bash("rec"));
        assertTrue(bash("inspect", "--").containsAll(List.of("--user", "--activity", "--key", "--repair")));
        assertEquals(List.of("a", "all", "b"), bash("reconcile", "--side", ""));
        assertEquals(List.of("fixed", "random"), bash("activity", "create", "--allocation", ""));
        assertEquals(List.of("a", "b"), bash("claim", "--read-side", ""));
        assertEquals(List.of("bash", "zsh"), bash("completion", ""));
        assertEquals(List.of("inspect"), bash("-v", "ins"));
        assertTrue(bash("-").contains("-v"));
    }

    /** Types the keys in a zsh that finds _rpctl on its fpath only, and returns the command line they made. */
    private String zsh(Path fpath, String... keysThenShown) throws Exception {
        Path driver = Path.of("src/test/resources/dev/rpctl/cli/zsh-complete.zsh").toAbsolutePath();
        List<String> cmd = new ArrayList<>(List.of("zsh", "-f", driver.toString(), fpath.toString()));
        cmd.addAll(List.of(keysThenShown));
        // run from elsewhere: the function must not look for anything beside the current folder
        return run(Files.createDirectories(dir.resolve("elsewhere")), cmd.toArray(String[]::new)).strip();
    }

    @Test
    void zsh_completes_from_the_file_installed_alone_in_fpath() throws Exception {
        Path fpath = Files.createDirectories(dir.resolve("site-functions"));
        Files.copy(ZSH, fpath.resolve("_rpctl"));
        assertEquals("reconcile --side all", zsh(fpath, "rpctl recon\t", "reconcile", "--side al\t", "all"));
        assertEquals("activity create --allocation random",
                zsh(fpath, "rpctl activity cr\t", "create", "--alloc\t", "allocation", "r\t", "random"));
    }

    @Test
    void rpctl_completion_prints_the_scripts_the_build_wrote() throws Exception {
        Rpctl.Result bash = Rpctl.isolated(dir).run("completion", "bash");
        assertEquals(0, bash.exitCode(), bash::toString);
        assertEquals(Files.readString(BASH), bash.out());
        Rpctl.Result zsh = Rpctl.isolated(dir).run("completion", "zsh");
        assertEquals(Files.readString(ZSH), zsh.out());
        assertTrue(zsh.out().startsWith("#compdef rpctl\n"), zsh.out());
        Rpctl.Result fish = Rpctl.isolated(dir).run("completion", "fish");
        assertEquals(64, fish.exitCode(), fish::toString);
        assertEquals("rpctl: completion is for bash or zsh, got \"fish\"\n", fish.err());
    }
}
