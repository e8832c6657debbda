package dev.rpctl.cli;

import picocli.CommandLine.Command;

@Command(name = "activity", mixinStandardHelpOptions = true, description = "Create and show activities and their budgets.",
        subcommands = {ActivityCreateCommand.class, ActivityShowCommand.class, ActivityListCommand.class,
                ActivityPauseCommand.class, ActivityResumeCommand.class, ActivityCloseCommand.class, ActivityExtendCommand.class})
final class ActivityCommand {
}
