package dev.rpctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Instant;

@Command(name = "extend", description = "Move an activity's end.")
final class ActivityExtendCommand extends BaseCommand {
    @Option(names = "--activity", required = true, paramLabel = "ID", description = "Activity id.")
    long id;
    @Option(names = "--ends", required = true, paramLabel = "INSTANT", description = "Closes at (ISO-8601, e.g. 2026-12-01T00:00:00Z).")
    Instant endsAt;

    @Override
    public Integer call() {
        ActivityStatusChange.changed(this, app().activities().extend(id, endsAt));
        return 0;
    }
}
