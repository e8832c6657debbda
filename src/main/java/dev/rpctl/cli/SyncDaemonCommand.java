package dev.rpctl.cli;

import dev.rpctl.sync.SyncService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "sync-daemon", description = {
        "Apply the binlog to the cache sides: one pipeline per side with its own connection, lanes and checkpoint.",
        "Runs until SIGTERM, which drains the lanes and saves the checkpoints within 10 s (a batch a side has not taken by then",
        "is left to the next start: the checkpoint stays behind it).",
        "A second daemon for a pipeline stands by and takes over when the first goes away."})
final class SyncDaemonCommand extends BaseCommand implements Cli.LongRunning {

    @Option(names = "--side", defaultValue = "all", paramLabel = "a|b|all", completionCandidates = Candidates.Sides.class, description = "Sides to feed (default: ${DEFAULT-VALUE}).")
    String side;

    @Option(names = "--from-now", description = "Start at the end of the binlog, not at the checkpoint (when the checkpoint's binlog is purged).")
    boolean fromNow;

    @Option(names = "--no-wait", description = "Exit 75 when another daemon runs the pipeline, instead of standing by.")
    boolean noWait;

    @Option(names = "--metrics", paramLabel = "HOST:PORT", description = "Serve /metrics and /health here (overrides metrics.address).")
    String metricsAddress;

    @Option(names = "--pipeline-prefix", paramLabel = "PREFIX", defaultValue = "",
            description = "Prefix of the pipeline names (checkpoint rows and locks); a pipeline is named PREFIX + side.")
    String pipelinePrefix;

    @Override
    public Integer call() throws InterruptedException {
        if (metricsAddress != null) {
            root().setting("metrics.address", metricsAddress, "--metrics");
        }
        SyncService service = app().syncService(side, new SyncService.Options(pipelinePrefix, fromNow, noWait));
        Signals.onTerminate(service::shutdown);
        service.start();
        service.await();
        return 0;
    }
}
