package dev.rpctl.sync;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.db.Database;
import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.db.SchemaService;
import dev.rpctl.kafka.KafkaClients;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The pipelines as MySQL sees them: each checkpoint with its age and distance from the end of
 * the binlog, the heartbeat, who holds the lock, and how many binlog files the server still keeps
 * before the checkpoint's file (purge those and the pipeline cannot resume).
 */
public final class StatusService {

    /**
     * One pipeline; times in milliseconds, -1 where unknown. {@code lagMillis} is the pipeline's
     * commit-to-applied lag as it saved it with its checkpoint (see {@link SyncMetrics#lagMillis}),
     * plus however long the checkpoint has gone unsaved beyond one checkpoint interval, so a
     * stuck or dead pipeline shows growing lag; {@code heartbeatAgeMillis} is how long ago a
     * heartbeat was last written, whoever applies it. {@code leaderConnection} is the MySQL
     * connection holding the pipeline's lock (null: none), {@code leaderProcess} the daemon that
     * holds it as host:pid (null: it has not recorded itself yet), {@code leaderHost} that
     * connection's client host:port.
     */
    public record PipelineStatus(String pipeline, String binlogFile, long binlogPosition, String gtid,
                                 long checkpointAgeMillis, long bytesBehind, long lagMillis, long heartbeatAgeMillis,
                                 Long leaderConnection, String leaderProcess, String leaderHost,
                                 int filesBeforeCheckpoint, long bytesBeforeCheckpoint, boolean purged,
                                 boolean oldestRetained, boolean stale, boolean lagging) {

        /** What is wrong, most serious first: purged, stale, no leader, behind; or ok. */
        public String state() {
            if (purged) {
                return "purged";
            }
            if (stale) {
                return "stale";
            }
            if (leaderConnection == null) {
                return "no leader";
            }
            return lagging ? "behind" : "ok";
        }

        public boolean ok() {
            return state().equals("ok");
        }
    }

    private final SyncRepository repo;
    private final SchemaService schema;
    private final Duration staleAfter;
    private final Duration checkpointInterval;

    private final List<dev.rpctl.cache.CacheSide> sides;
    private final KafkaClients kafka;

    public StatusService(SyncRepository repo, SchemaService schema, Duration staleAfter, Duration checkpointInterval,
                         List<dev.rpctl.cache.CacheSide> sides) {
        this(repo, schema, staleAfter, checkpointInterval, sides, null);
    }

    /** @param kafka the clients to read the appliers' consumer groups with; null: no Kafka mode */
    public StatusService(SyncRepository repo, SchemaService schema, Duration staleAfter, Duration checkpointInterval,
                         List<dev.rpctl.cache.CacheSide> sides, KafkaClients kafka) {
        this.kafka = kafka;
        this.repo = repo;
        this.sides = sides;
        this.schema = schema;
        this.staleAfter = staleAfter;
        this.checkpointInterval = checkpointInterval;
    }

    /**
     * Kafka mode, one side's appliers: their consumer group, how many are in it, the messages of
     * the topic the group has not committed, and the end-to-end lag in milliseconds they recorded
     * (-1: none yet), grown by however long their commits have stopped; {@code error} when Kafka
     * did not answer.
     */
    public record GroupStatus(String side, String group, int members, long lagMessages, long lagMillis, String error) {
        /** unreachable, no appliers, behind (past --stale-after), or ok. */
        public String state(Duration staleAfter) {
            if (error != null) {
                return "kafka unreachable";
            }
            if (members == 0) {
                return "no appliers";
            }
            return lagMillis > staleAfter.toMillis() ? "behind" : "ok";
        }
    }

    /** The pipeline name of the Kafka publisher, whose checkpoint says Kafka mode is in use. */
    public static String publisher() {
        return SyncService.PUBLISHER;
    }

    public Duration staleAfter() {
        return staleAfter;
    }

    /** Each configured side's consumer group; empty without Kafka settings. */
    public List<GroupStatus> groups() {
        List<GroupStatus> out = new ArrayList<>();
        if (kafka == null) {
            return out;
        }
        for (dev.rpctl.cache.CacheSide s : sides) {
            String group = kafka.settings().group(s.name());
            try {
                KafkaClients.GroupLag g = kafka.groupLag(group, kafka.settings().topic(), checkpointInterval.toMillis());
                out.add(new GroupStatus(s.name(), group, g.members(), g.lagMessages(), g.lagMillis(), null));
            } catch (RpctlException e) {
                out.add(new GroupStatus(s.name(), group, 0, -1, -1, e.getMessage()));
            }
        }
        return out;
    }

    /** One configured side as a ping finds it: up, or down with what the ping met. */
    public record SideState(String side, String address, boolean up, String error) {}

    /** Pings every configured side (each its own timeout): a side that is down is named, whatever the daemon says. */
    public List<SideState> sides() {
        List<SideState> out = new ArrayList<>();
        for (dev.rpctl.cache.CacheSide s : sides) {
            try {
                s.ping();
                out.add(new SideState(s.name(), s.address(), true, null));
            } catch (RuntimeException e) {
                out.add(new SideState(s.name(), s.address(), false, dev.rpctl.errors.RpctlException.rootMessage(e)));
            }
        }
        return out;
    }

    /** The claim table's version triggers that are missing or not this rpctl's; empty when all are there. */
    public List<String> missingTriggers() {
        return schema.missingTriggers();
    }

    /**
     * The server's binlog settings; a server with the binlog off is refused (78), as the daemon
     * refuses it, since there is nothing for a pipeline to read or a checkpoint to be measured against.
     */
    public Binlog binlog() {
        SyncRepository.BinlogSettings b = repo.binlogSettings();
        if (!b.on()) {
            Database db = repo.database();
            throw new RpctlException(ExitCode.CONFIG, db.role() + " at " + db.address() + " has the binary log off;"
                    + " the sync daemon needs log-bin, binlog-format=ROW and binlog-row-image=FULL");
        }
        return new Binlog(b.format(), b.rowImage(), repo.serverNow().file(), b.usable());
    }

    /**
     * Deletes the checkpoint of a pipeline that is gone (a renamed side, a test run with its own
     * prefix), so status stops reporting it. A pipeline whose lock is held is running: refused (75).
     */
    public void forget(String pipeline) {
        Long holder = repo.lockHolder(PipelineLock.lockName(pipeline));
        if (holder != null) {
            throw RpctlException.temporary("pipeline " + pipeline + " is running (MySQL connection " + holder
                    + " holds its lock); stop its sync-daemon first");
        }
        if (!repo.forget(pipeline)) {
            throw RpctlException.usage("no pipeline " + pipeline + " has a checkpoint; 'rpctl pipeline list' lists them");
        }
    }

    /** The server's binlog: its format and row image, the file it writes now, and whether a pipeline can read it. */
    public record Binlog(String format, String rowImage, String activeFile, boolean usable) {}

    public List<PipelineStatus> status() {
        long now = System.currentTimeMillis();
        List<SyncRepository.BinaryLog> logs = repo.binaryLogs();
        Map<String, Long> beats = repo.heartbeats();
        List<PipelineStatus> out = new ArrayList<>();
        for (SyncRepository.Checkpoint c : repo.checkpoints()) {
            BinlogPosition p = c.position();
            int index = -1;
            for (int i = 0; i < logs.size(); i++) {
                if (logs.get(i).name().equals(p.file())) {
                    index = i;
                }
            }
            long before = 0;
            long behind = 0;
            if (index >= 0) {
                for (int i = 0; i < index; i++) {
                    before += logs.get(i).size();
                }
                behind = Math.max(0, logs.get(index).size() - p.position());
                for (int i = index + 1; i < logs.size(); i++) {
                    behind += logs.get(i).size();
                }
            }
            long age = c.ageMillis();
            Long beat = beats.get(c.pipeline());
            long lag = c.lagMillis() < 0 || age < 0 ? -1 : c.lagMillis() + Math.max(0, age - checkpointInterval.toMillis());
            Long holder = repo.lockHolder(PipelineLock.lockName(c.pipeline()));
            // the row names the daemon that recorded itself on the session now holding the lock, or no one
            String process = holder != null && holder.equals(c.leaderConnection()) && !c.leader().isEmpty() ? c.leader() : null;
            out.add(new PipelineStatus(c.pipeline(), p.file(), p.position(), p.gtid(), age,
                    index >= 0 ? behind : -1, lag, beat == null ? -1 : Math.max(0, now - beat),
                    holder, process, holder == null ? null : repo.connectionHost(holder),
                    Math.max(0, index), before, index < 0, index == 0, age > staleAfter.toMillis(),
                    lag > staleAfter.toMillis()));
        }
        return out;
    }
}
