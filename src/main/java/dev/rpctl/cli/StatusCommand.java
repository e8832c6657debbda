package dev.rpctl.cli;

import dev.rpctl.sync.StatusService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

@Command(name = "status", description = {
        "The sync pipelines: checkpoint and its age, binlog behind, lag, leader, binlog headroom, and the server's binlog.",
        "Exits 1 when a checkpoint is stale or its binlog file is gone, 78 when the server's binlog is off."})
final class StatusCommand extends BaseCommand {

    @Option(names = "--stale-after", defaultValue = "30s", paramLabel = "DURATION",
            description = "A checkpoint older than this is stale (default: ${DEFAULT-VALUE}).")
    String staleAfter;

    @Option(names = "--all", description = "Also the pipelines of sides this configuration does not have (a renamed side, a run with --pipeline-prefix).")
    boolean all;

    @Option(names = "--pipeline", paramLabel = "PIPELINE",
            description = "Only this pipeline (repeatable); configured or not. 'rpctl pipeline list' lists them.")
    List<String> pipelines;

    @Option(names = "--kafka", description = "Also each side's Kafka consumer group (shown anyway once the Kafka publisher has a checkpoint).")
    boolean kafka;

    @Option(names = "--watch", description = "Refresh in place every 2 s until Ctrl-C (a terminal only).")
    boolean watch;

    @Override
    public Integer call() throws InterruptedException {
        if (watch && (System.console() == null || out().json())) {
            throw dev.rpctl.errors.RpctlException.usage("--watch refreshes a terminal; without one (or with --json) run status once, e.g. from watch(1) or cron");
        }
        StatusService service = app().statusService(duration("--stale-after", staleAfter));
        if (!watch) {
            return once(service);
        }
        while (true) {
            // home and clear, then the same report as a single status
            out().out().print("\u001b[H\u001b[2J");
            once(service);
            out().out().flush();
            Thread.sleep(2000);
        }
    }

    private int once(StatusService service) {
        StatusService.Binlog binlog = service.binlog();
        List<String> sides = app().config().sideNames();
        List<StatusService.PipelineStatus> every = service.status();
        if (pipelines != null) {
            for (String p : pipelines) {
                if (every.stream().noneMatch(s -> s.pipeline().equals(p))) {
                    throw dev.rpctl.errors.RpctlException.usage("no pipeline " + p + " has a checkpoint; 'rpctl pipeline list' lists them");
                }
            }
        }
        // Kafka mode: the publisher is a pipeline of this configuration too, and each side has a consumer group
        boolean kafkaMode = kafka || every.stream().anyMatch(s -> s.pipeline().equals(StatusService.publisher()));
        List<String> configured = new java.util.ArrayList<>(sides);
        if (kafkaMode) {
            configured.add(StatusService.publisher());
        }
        // a checkpoint of a side this configuration lacks is shown with --all or --pipeline, and
        // fails the exit code only when named
        List<StatusService.PipelineStatus> all = every.stream().filter(s -> pipelines != null ? pipelines.contains(s.pipeline())
                : this.all || configured.contains(s.pipeline())).toList();
        int hidden = pipelines != null ? 0 : every.size() - all.size();
        List<String> missing = service.missingTriggers();
        List<StatusService.SideState> sideStates = service.sides();
        List<StatusService.GroupStatus> groups = kafkaMode ? service.groups() : List.of();
        // in Kafka mode a side is fed by its group, not by a binlog pipeline of its own
        List<String> judged = kafkaMode ? List.of(StatusService.publisher()) : sides;
        boolean ok = sideStates.stream().allMatch(StatusService.SideState::up)
                && all.stream().filter(s -> pipelines != null || judged.contains(s.pipeline())).allMatch(StatusService.PipelineStatus::ok)
                && groups.stream().allMatch(g -> g.state(service.staleAfter()).equals("ok"))
                && missing.isEmpty() && binlog.usable();
        StatusView.render(out(), binlog, all, missing, configured, hidden, sideStates, groups, service.staleAfter());
        return exit(ok);
    }
}
