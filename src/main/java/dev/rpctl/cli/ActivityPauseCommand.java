package dev.rpctl.cli;

import picocli.CommandLine.Command;

@Command(name = "pause", description = "Pause an activity: claims are refused until 'activity resume'.")
final class ActivityPauseCommand extends ActivityStatusChange {
    @Override
    String status() {
        return "paused";
    }
}
