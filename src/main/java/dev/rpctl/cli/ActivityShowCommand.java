package dev.rpctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "show", description = "Show an activity: its state (open, paused, closed, not started, ended, sold out), budget, paid and remaining.")
final class ActivityShowCommand extends BaseCommand {
    @Option(names = "--activity", required = true, paramLabel = "ID", description = "Activity id.")
    long id;

    @Override
    public Integer call() {
        ActivityView.render(out(), app().activities().require(id));
        return 0;
    }
}
