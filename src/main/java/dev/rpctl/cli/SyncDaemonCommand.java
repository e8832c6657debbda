package dev.rpctl.cli;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.sync.SyncService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "sync-daemon", description = {
        "Apply the binlog to the cache sides: one pipeline per side with its own connection, lanes and checkpoint.",
        "Runs until SIGTERM, which drains the lanes and saves the checkpoints within 10 s (a batch a side has not taken by then",
        "is left to the next start: the checkpoint stays behind it).",
        "A second daemon for a pipeline stands by and takes over when the first goes away.",
        "Kafka mode: --sink kafka publishes the binlog to kafka.topic (pipeline <prefix>kafka); --source kafka applies the",
        "topic to the sides as a member of each side's consumer group, beside as many other appliers as the topic has partitions."})
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

    @Option(names = "--sink", defaultValue = "cache", paramLabel = "cache|kafka",
            description = "Where the binlog's changes go: the cache sides (default), or kafka.topic for appliers (--source kafka).")
    String sink;

    @Option(names = "--source", defaultValue = "binlog", paramLabel = "binlog|kafka",
            description = "What the sides are fed from: the binlog (default), or kafka.topic as one member of each side's"
                    + " consumer group <kafka.group-prefix>-<side>.")
    String source;

    @Option(names = "--format", defaultValue = "rpctl", paramLabel = "rpctl|debezium|maxwell|canal",
            description = "With --source kafka: the messages' format: rpctl (default, as --sink kafka writes them), or the JSON"
                    + " of a Debezium, Maxwell or Canal (flat message) stream of the claim table.")
    String format;

    @Override
    public Integer call() throws InterruptedException {
        if (metricsAddress != null) {
            root().setting("metrics.address", metricsAddress, "--metrics");
        }
        SyncService.Mode mode = mode();
        SyncService service = app().syncService(side, new SyncService.Options(pipelinePrefix, fromNow, noWait, mode,
                mode == SyncService.Mode.APPLY ? app().messageFormat(format) : null));
        Signals.onTerminate(service::shutdown);
        service.start();
        service.await();
        return 0;
    }

    private SyncService.Mode mode() {
        if (!sink.equals("cache") && !sink.equals("kafka")) {
            throw RpctlException.usage("--sink " + sink + ": expected cache or kafka");
        }
        if (!source.equals("binlog") && !source.equals("kafka")) {
            throw RpctlException.usage("--source " + source + ": expected binlog or kafka");
        }
        if (sink.equals("kafka") && source.equals("kafka")) {
            throw RpctlException.usage("--sink kafka publishes the binlog and --source kafka applies the topic;"
                    + " run them as two daemons");
        }
        if (sink.equals("kafka")) {
            return SyncService.Mode.PUBLISH;
        }
        return source.equals("kafka") ? SyncService.Mode.APPLY : SyncService.Mode.DIRECT;
    }
}
