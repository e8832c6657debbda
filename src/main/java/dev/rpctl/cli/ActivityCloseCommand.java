package dev.rpctl.cli;

import picocli.CommandLine.Command;

@Command(name = "close", description = "Close an activity for good: claims are refused from now on.")
final class ActivityCloseCommand extends ActivityStatusChange {
    @Override
    String status() {
        return "closed";
    }
}
