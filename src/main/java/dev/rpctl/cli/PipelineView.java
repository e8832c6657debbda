package dev.rpctl.cli;

import dev.rpctl.sync.StatusService;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** How {@code pipeline list} and {@code pipeline drop} are shown, or their JSON documents. */
final class PipelineView {
    private PipelineView() {
    }

    static void list(Output out, List<StatusService.PipelineStatus> pipelines, List<String> sides, StatusService.Binlog binlog) {
        if (out.json()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            List<Map<String, Object>> ps = new ArrayList<>();
            for (StatusService.PipelineStatus s : pipelines) {
                ps.add(StatusView.pipelineJson(s, sides, binlog));
            }
            doc.put("pipelines", ps);
            out.json(doc);
            return;
        }
        if (pipelines.isEmpty()) {
            out.line("no pipeline has a checkpoint yet; start 'rpctl sync-daemon'");
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (StatusService.PipelineStatus s : pipelines) {
            rows.add(List.of(s.pipeline(), sides.contains(s.pipeline()) ? "yes" : "no", s.binlogFile() + ":" + s.binlogPosition(),
                    StatusView.duration(s.checkpointAgeMillis()), StatusView.leader(s), s.ok() ? "ok" : s.state()));
        }
        out.table(List.of("pipeline", "configured", "checkpoint", "checkpoint age", "leader", "state"), rows);
    }

    static void dropped(Output out, String pipeline) {
        if (out.json()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("dropped", pipeline);
            out.json(doc);
            return;
        }
        out.line("dropped pipeline " + pipeline + " (its checkpoint)");
    }
}
