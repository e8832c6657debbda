package dev.rpctl.cli;

import picocli.CommandLine.Command;

@Command(name = "resume", description = "Resume a paused activity.")
final class ActivityResumeCommand extends ActivityStatusChange {
    @Override
    String status() {
        return "open";
    }
}
