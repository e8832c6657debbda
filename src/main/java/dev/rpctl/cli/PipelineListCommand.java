package dev.rpctl.cli;

import dev.rpctl.sync.StatusService;
import picocli.CommandLine.Command;

@Command(name = "list", description = {
        "Every pipeline with a checkpoint, configured or not (a renamed side, a run with --pipeline-prefix):",
        "its checkpoint and age, the daemon leading it, its state. Does not ping the sides ('status' does)."})
final class PipelineListCommand extends BaseCommand {
    @Override
    public Integer call() {
        StatusService service = app().statusService(java.time.Duration.ofSeconds(30));
        PipelineView.list(out(), service.status(), app().config().sideNames(), service.binlog());
        return 0;
    }
}
