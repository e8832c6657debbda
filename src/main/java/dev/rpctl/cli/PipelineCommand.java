package dev.rpctl.cli;

import picocli.CommandLine.Command;

@Command(name = "pipeline", mixinStandardHelpOptions = true,
        description = "The sync pipelines that have a checkpoint: list them, retire one that no longer runs.",
        subcommands = {PipelineListCommand.class, PipelineDropCommand.class})
final class PipelineCommand {
}
