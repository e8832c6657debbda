package dev.rpctl.cli;

import dev.rpctl.errors.RpctlException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "completion", description = {
        "Print the completion script of a shell, generated from the commands and options of this rpctl.",
        "bash: source <(rpctl completion bash), or save it as /usr/share/bash-completion/completions/rpctl.",
        "zsh: save it as _rpctl in a folder of $fpath (e.g. /usr/share/zsh/vendor-completions), then start a new shell."})
final class CompletionCommand extends BaseCommand {
    @Parameters(paramLabel = "SHELL", completionCandidates = Shells.class, description = "bash or zsh.")
    String shell;

    static final class Shells implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.List.of("bash", "zsh").iterator();
        }
    }

    @Override
    public Integer call() {
        String script = switch (shell) {
            case "bash" -> Completions.bash(Cli.commandLine(new RpctlCommand()));
            case "zsh" -> Completions.zsh(Cli.commandLine(new RpctlCommand()));
            default -> throw RpctlException.usage("completion is for bash or zsh, got \"" + shell + "\"");
        };
        out().out().print(script);
        out().out().flush();
        return 0;
    }
}
