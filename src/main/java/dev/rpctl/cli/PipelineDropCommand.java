package dev.rpctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "drop", description = {
        "Deletes the checkpoint of a pipeline that no longer runs, so that 'status' stops reporting it.",
        "Refused (75) while a daemon holds the pipeline; 64 when it has no checkpoint."})
final class PipelineDropCommand extends BaseCommand {
    @Parameters(paramLabel = "PIPELINE", description = "The pipeline's name, as 'rpctl pipeline list' shows it.")
    String pipeline;

    @Override
    public Integer call() {
        app().statusService(java.time.Duration.ofSeconds(30)).forget(pipeline);
        PipelineView.dropped(out(), pipeline);
        return 0;
    }
}
