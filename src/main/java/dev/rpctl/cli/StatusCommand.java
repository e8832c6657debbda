package dev.rpctl.cli;

import dev.rpctl.sync.StatusService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

@Command(name = "status", description = {
        "The sync pipelines: checkpoint and its age, bytes of binlog behind, lag, leader, binlog headroom.",
        "Exits 1 when a checkpoint is stale or its binlog file is gone."})
final class StatusCommand extends BaseCommand {

    @Option(names = "--stale-after", defaultValue = "30s", paramLabel = "DURATION",
            description = "A checkpoint older than this is stale (default: ${DEFAULT-VALUE}).")
    String staleAfter;

    @Override
    public Integer call() {
        StatusService service = app().statusService(duration("--stale-after", staleAfter));
        List<StatusService.PipelineStatus> all = service.status();
        List<String> missing = service.missingTriggers();
        boolean ok = all.stream().allMatch(StatusService.PipelineStatus::ok) && missing.isEmpty();
        if (out().json()) {
            out().json(new Report(all, missing));
            return exit(ok);
        }
        if (!missing.isEmpty()) {
            out().line("@|bold,red the claim table lacks the version trigger(s) " + String.join(", ", missing)
                    + ": claims and the sync daemon refuse to run; run 'rpctl db init'|@");
        }
        if (all.isEmpty()) {
            out().line("no pipeline has a checkpoint yet; start 'rpctl sync-daemon'");
            return exit(ok);
        }
        List<List<String>> rows = new ArrayList<>();
        for (StatusService.PipelineStatus s : all) {
            String state = s.purged() ? "@|red purged|@" : s.stale() ? "@|red stale|@"
                    : s.oldestRetained() ? "@|yellow ok, next purge breaks it|@" : "@|green ok|@";
            rows.add(List.of(s.pipeline(), s.binlogFile() + ":" + s.binlogPosition(), s.gtid().isEmpty() ? "-" : s.gtid(),
                    ms(s.checkpointAgeMillis()), s.bytesBehind() < 0 ? "-" : s.bytesBehind() + " B",
                    ms(s.lagMillis()), s.leaderConnection() == null ? "none" : "conn " + s.leaderConnection(),
                    s.filesBeforeCheckpoint() + " files, " + s.bytesBeforeCheckpoint() + " B", state));
        }
        out().table(List.of("pipeline", "checkpoint", "gtid", "checkpoint age", "behind", "lag", "leader",
                "headroom", "state"), rows);
        return exit(ok);
    }

    /** The --json document: the pipelines, and the version triggers the claim table lacks. */
    record Report(List<StatusService.PipelineStatus> pipelines, List<String> missingTriggers) {}

    private static String ms(long v) {
        if (v < 0) {
            return "-";
        }
        return v < 10_000 ? v + " ms" : (v / 1000) + " s";
    }
}
