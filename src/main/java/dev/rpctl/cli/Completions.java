package dev.rpctl.cli;

import picocli.AutoComplete;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The bash and zsh completion scripts, generated from the command model: at build time into
 * completions/ (for packagers), and at run time by {@code rpctl completion bash|zsh}.
 */
public final class Completions {
    private static final String PREAMBLE_START = "if [ -n \"$BASH_VERSION\" ]; then";
    private static final String COMPLETE = "complete -F _complete_rpctl -o default rpctl";

    private Completions() {
    }

    /** Writes rpctl.bash and _rpctl into the given folder (default: completions). */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "completions");
        Files.createDirectories(dir);
        CommandLine model = Cli.commandLine(new RpctlCommand());
        Files.writeString(dir.resolve("rpctl.bash"), bash(model));
        Files.writeString(dir.resolve("_rpctl"), zsh(model));
    }

    /** For bash: source it, or put it in /usr/share/bash-completion/completions/rpctl. */
    static String bash(CommandLine model) {
        return functions(model) + COMPLETE + "\n";
    }

    /**
     * For zsh: a file named _rpctl in a folder of $fpath, which compinit loads at the first Tab
     * after rpctl. It runs the bash functions through zsh's bashcompinit, so both shells complete
     * the same way, and then completes that first Tab too.
     */
    static String zsh(CommandLine model) {
        String bash = functions(model);
        // the bash script's own zsh set-up changes global options of the user's shell; this file needs none of it
        int start = bash.indexOf(PREAMBLE_START);
        int end = bash.indexOf("\nfi\n", start);
        if (start < 0 || end < 0) {
            throw new IllegalStateException("picocli's bash completion changed its preamble");
        }
        return "#compdef rpctl\n"
                + "# zsh completion of rpctl, generated from its command model; install as _rpctl in a folder of $fpath\n"
                + "# (e.g. /usr/share/zsh/vendor-completions), then start a new shell.\n"
                + "autoload -U +X bashcompinit && bashcompinit\n"
                + bash.substring(bash.indexOf('\n', bash.indexOf("#!")) + 1, start)
                + bash.substring(end + "\nfi\n".length())
                + COMPLETE + "\n"
                + "_bash_complete -F _complete_rpctl -o default\n";
    }

    /**
     * picocli's script without its last line, which names rpctl.sh and rpctl.bash as well, and with
     * -v a flag: picocli takes the repeatable boolean (-v, -vv) for an option with a value, after
     * which nothing would complete.
     */
    private static String functions(CommandLine model) {
        String script = AutoComplete.bash("rpctl", model)
                .replace(" '-v'\"\n", "\"\n")
                .replace("local flag_opts=\"", "local flag_opts=\"'-v' ")
                .replace("    '-v')\n      return\n      ;;\n", "");
        int last = script.lastIndexOf("\ncomplete -F ");
        if (last < 0) {
            throw new IllegalStateException("picocli's bash completion has no complete line");
        }
        return script.substring(0, last + 1);
    }
}
