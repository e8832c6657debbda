package dev.rpctl.cli;

import dev.rpctl.claim.ActivityService;
import picocli.CommandLine.Option;

/** pause, resume and close: one status change each. */
abstract class ActivityStatusChange extends BaseCommand {
    @Option(names = "--activity", required = true, paramLabel = "ID", description = "Activity id.")
    long id;

    abstract String status();

    @Override
    public Integer call() {
        ActivityService.Changed c = app().activities().setStatus(id, status());
        changed(this, c);
        return 0;
    }

    /** What a status change or an extension did: a line on stderr, then the activity. */
    static void changed(BaseCommand cmd, ActivityService.Changed c) {
        if (!cmd.out().json()) {
            String done = switch (cmd.spec.name()) {
                case "pause" -> "paused";
                case "resume" -> "resumed";
                case "close" -> "closed";
                default -> "extended";
            };
            cmd.out().err().println("activity " + c.activity().id() + " " + (c.changed() ? done : "unchanged"));
            cmd.out().err().flush();
        }
        ActivityView.render(cmd.out(), c.activity());
    }
}
