package dev.rpctl.cli;

import dev.rpctl.errors.RpctlException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

@Command(name = "shell", description = {
        "An interactive shell: type rpctl commands without 'rpctl', with completion of commands, options and their"
                + " values (sides, allocations, the activity and user ids typed before) and a history kept across sessions.",
        "Its connections stay open between commands, so the second inspect answers at once. Ctrl-C stops the running"
                + " command, not the shell; Ctrl-D or 'exit' leaves. Global options given before 'shell' apply to every line.",
        "When standard input or output is not a terminal, it runs the lines it reads as a script (blank lines and # comments skipped)"
                + " and stops at the first that fails, exiting with its code."},
        footer = {"", "Exit: 0 when every line succeeded; otherwise the code of the first line that failed (with --keep-going too)."})
final class ShellCommand extends BaseCommand {
    @Option(names = "--keep-going", description = "A script: run every line, even after one fails.")
    boolean keepGoing;

    @Override
    public Integer call() throws IOException {
        RpctlCommand root = root();
        if (root.inShell()) {
            throw RpctlException.usage("already in the shell");
        }
        Shell shell = new Shell(root, spec.commandLine().getOut(), spec.commandLine().getErr());
        if (root.terminal()) {
            try (Terminal terminal = TerminalBuilder.builder().system(true).build()) {
                return shell.interactive(terminal, Shell.historyFile(root.env()));
            }
        }
        if (root.in() == System.in) {
            Signals.handle("INT", () -> {
                if (!shell.interrupt()) {
                    // nothing running: Ctrl-C ends a script as it would any other program
                    System.exit(130);
                }
            });
        }
        return shell.script(new BufferedReader(new InputStreamReader(root.in(), StandardCharsets.UTF_8)), keepGoing);
    }
}
