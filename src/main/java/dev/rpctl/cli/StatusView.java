package dev.rpctl.cli;

import dev.rpctl.sync.StatusService;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** How {@code status} is shown: the server's binlog, warnings, then a table of the pipelines; or its JSON document. */
final class StatusView {
    private StatusView() {
    }

    static void render(Output out, StatusService.Binlog binlog, List<StatusService.PipelineStatus> all,
                       List<String> missing, List<String> sides, int hidden, List<StatusService.SideState> sideStates,
                       List<StatusService.GroupStatus> groups, Duration staleAfter) {
        if (out.json()) {
            Map<String, Object> doc = json(binlog, all, missing, sides, hidden);
            List<Map<String, Object>> gs = new ArrayList<>();
            for (StatusService.GroupStatus g : groups) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("side", g.side());
                m.put("group", g.group());
                m.put("state", g.state(staleAfter).replace(' ', '_'));
                m.put("members", g.members());
                m.put("lag_messages", known(g.lagMessages()));
                m.put("lag_ms", known(g.lagMillis()));
                m.put("error", g.error());
                gs.add(m);
            }
            doc.put("kafka_groups", gs);
            List<Map<String, Object>> ss = new ArrayList<>();
            for (StatusService.SideState s : sideStates) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("side", s.side());
                m.put("address", s.address());
                m.put("up", s.up());
                m.put("error", s.error());
                ss.add(m);
            }
            doc.put("sides", ss);
            out.json(doc);
            return;
        }
        out.line("binlog: format " + binlog.format() + ", row image " + binlog.rowImage() + ", writing " + binlog.activeFile()
                + (binlog.usable() ? "" : "  @|bold,red the sync daemon needs binlog_format=ROW and binlog_row_image=FULL|@"));
        for (StatusService.SideState side : sideStates) {
            if (!side.up()) {
                out.line("@|bold,red side " + side.side() + " at " + side.address() + " is down: " + side.error()
                        + "; its pipeline's changes wait until it answers|@");
            }
        }
        if (!missing.isEmpty()) {
            out.line("@|bold,red the claim table lacks the version trigger(s) " + String.join(", ", missing)
                    + ": claims and the sync daemon refuse to run; run 'rpctl db init'|@");
        }
        if (all.isEmpty()) {
            out.line("no pipeline has a checkpoint yet; start 'rpctl sync-daemon'");
        }
        if (hidden > 0) {
            out.line(hidden + " pipeline(s) of sides not in this configuration hidden; --all shows them, 'rpctl pipeline drop PIPELINE' retires one");
        }
        if (!groups.isEmpty()) {
            groups(out, groups, staleAfter);
        }
        if (all.isEmpty()) {
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (StatusService.PipelineStatus s : all) {
            boolean sideDown = sideStates.stream().anyMatch(x -> !x.up() && x.side().equals(s.pipeline()));
            String state = sideDown ? "@|red side down|@" : !s.ok() ? "@|red " + s.state() + "|@"
                    : nextPurgeBreaks(s, binlog) ? "@|yellow ok, next purge breaks it|@" : "@|green ok|@";
            rows.add(List.of(s.pipeline(), s.binlogFile() + ":" + s.binlogPosition(), s.gtid().isEmpty() ? "-" : s.gtid(),
                    duration(s.checkpointAgeMillis()), s.bytesBehind() < 0 ? "-" : size(s.bytesBehind()),
                    duration(s.lagMillis()), leader(s),
                    s.filesBeforeCheckpoint() + " files, " + size(s.bytesBeforeCheckpoint()), state));
        }
        out.table(List.of("pipeline", "checkpoint", "gtid", "checkpoint age", "behind", "lag", "leader",
                "headroom", "state"), rows);
    }

    /** Kafka mode: each side's appliers, their group's lag in messages and end to end. */
    private static void groups(Output out, List<StatusService.GroupStatus> groups, Duration staleAfter) {
        List<List<String>> rows = new ArrayList<>();
        for (StatusService.GroupStatus g : groups) {
            String state = g.state(staleAfter);
            rows.add(List.of(g.side(), g.group(), g.error() != null ? "-" : Integer.toString(g.members()),
                    g.lagMessages() < 0 ? "-" : Long.toString(g.lagMessages()), duration(g.lagMillis()),
                    state.equals("ok") ? "@|green ok|@" : "@|red " + state + "|@"));
        }
        out.table(List.of("side", "group", "appliers", "lag (messages)", "lag", "state"), rows);
        for (StatusService.GroupStatus g : groups) {
            if (g.error() != null) {
                out.line("@|bold,red " + g.error() + "|@");
                break;
            }
        }
    }

    static String leader(StatusService.PipelineStatus s) {
        if (s.leaderConnection() == null) {
            return "none";
        }
        // host:pid of the daemon; a session that has not recorded one yet by its connection
        return s.leaderProcess() != null ? s.leaderProcess() : "conn " + s.leaderConnection();
    }

    /** The oldest file the server keeps is the checkpoint's, and it is not the one being written (which no purge removes). */
    private static boolean nextPurgeBreaks(StatusService.PipelineStatus s, StatusService.Binlog binlog) {
        return s.oldestRetained() && !s.binlogFile().equals(binlog.activeFile());
    }

    private static Map<String, Object> json(StatusService.Binlog binlog, List<StatusService.PipelineStatus> all,
                                            List<String> missing, List<String> sides, int hidden) {
        Map<String, Object> doc = new LinkedHashMap<>();
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("format", binlog.format().toLowerCase(java.util.Locale.ROOT));
        b.put("row_image", binlog.rowImage().toLowerCase(java.util.Locale.ROOT));
        b.put("active_file", binlog.activeFile());
        b.put("usable", binlog.usable());
        doc.put("binlog", b);
        List<Map<String, Object>> pipelines = new ArrayList<>();
        for (StatusService.PipelineStatus s : all) {
            pipelines.add(pipelineJson(s, sides, binlog));
        }
        doc.put("pipelines", pipelines);
        doc.put("hidden", hidden);
        doc.put("missing_triggers", missing);
        return doc;
    }

    /** One pipeline in the documents of {@code status} and {@code pipeline list}. */
    static Map<String, Object> pipelineJson(StatusService.PipelineStatus s, List<String> sides, StatusService.Binlog binlog) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("pipeline", s.pipeline());
        p.put("state", s.state().replace(' ', '_'));
        p.put("configured", sides.contains(s.pipeline()));
        p.put("binlog_file", s.binlogFile());
        p.put("binlog_position", s.binlogPosition());
        p.put("gtid", s.gtid().isEmpty() ? null : s.gtid());
        p.put("checkpoint_age_ms", known(s.checkpointAgeMillis()));
        p.put("behind_bytes", known(s.bytesBehind()));
        p.put("lag_ms", known(s.lagMillis()));
        p.put("heartbeat_age_ms", known(s.heartbeatAgeMillis()));
        p.put("leader_connection", s.leaderConnection());
        p.put("leader", s.leaderHost());
        p.put("leader_process", s.leaderProcess());
        p.put("files_before_checkpoint", s.purged() ? null : s.filesBeforeCheckpoint());
        p.put("bytes_before_checkpoint", s.purged() ? null : s.bytesBeforeCheckpoint());
        p.put("next_purge_breaks_it", nextPurgeBreaks(s, binlog));
        p.put("purged", s.purged());
        p.put("stale", s.stale());
        return p;
    }

    /** null for a figure the service marks unknown (negative). */
    private static Long known(long v) {
        return v < 0 ? null : v;
    }

    static String duration(long ms) {
        if (ms < 0) {
            return "-";
        }
        if (ms < 10_000) {
            return ms + " ms";
        }
        if (ms < 600_000) {
            return String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
        }
        return ms < 7_200_000 ? (ms / 60_000) + " min" : (ms / 3_600_000) + " h";
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format(java.util.Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        if (bytes < 1024L * 1024 * 1024) {
            return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        }
        return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
