package dev.rpctl.sync;

import dev.rpctl.RpctlException;
import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.binlog.BinlogSource;
import dev.rpctl.binlog.RowChange;
import dev.rpctl.binlog.Values;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.config.BadDataPolicy;
import dev.rpctl.config.MappingSettings;
import dev.rpctl.config.SyncSettings;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One leadership of one pipeline: binlog source -> per-user lanes -> one cache side, with the
 * checkpointer and the heartbeat writer beside them.
 */
final class Pipeline implements BinlogSource.Listener {
    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);

    private final String name;
    private final CacheSide side;
    private final CacheProtocol protocol;
    private final MappingSettings mapping;
    private final SyncSettings settings;
    private final SyncRepository repo;
    private final SyncMetrics metrics;
    private final BinlogSource source;
    private final String claimTable;
    private final String heartbeatTable;
    private final String versionColumn;
    private final List<Lane> lanes = new ArrayList<>();
    private final List<Thread> laneThreads = new ArrayList<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final CountDownLatch stopping = new CountDownLatch(1);
    private TxTracker tracker;
    private Thread sourceThread;
    private Thread checkpointer;
    private Thread heartbeat;
    private volatile Throwable failure;
    private volatile BinlogPosition saved;
    /** The column array {@link #claimColumns} was found in; reader thread only. */
    private String[] indexed;
    private int[] claimColumns;

    Pipeline(String name, long serverId, CacheSide side, CacheProtocol protocol, MappingSettings mapping,
             SyncSettings settings, SyncRepository repo, SyncMetrics metrics) {
        this.name = name;
        this.side = side;
        this.protocol = protocol;
        this.mapping = mapping;
        this.settings = settings;
        this.repo = repo;
        this.metrics = metrics;
        this.claimTable = mapping.claimTable().toLowerCase(Locale.ROOT);
        this.heartbeatTable = mapping.heartbeatTable().toLowerCase(Locale.ROOT);
        this.versionColumn = mapping.versionColumn().toLowerCase(Locale.ROOT);
        this.source = new BinlogSource(name, repo.database().settings(), serverId, Set.of(claimTable, heartbeatTable),
                settings.keepaliveInterval(), repo::columns, this);
    }

    void start(BinlogPosition from) {
        tracker = new TxTracker(from);
        saved = from;
        for (int i = 0; i < settings.lanes(); i++) {
            Lane lane = new Lane(name + "-" + i, settings.queueCapacity(), settings.batchSize(), side, protocol, metrics);
            lanes.add(lane);
            laneThreads.add(thread("lane-" + name + "-" + i, lane));
        }
        metrics.laneDepths(() -> lanes.stream().map(Lane::depth).toList());
        sourceThread = thread("binlog-" + name, () -> {
            try {
                source.run(from);
            } catch (Throwable t) {
                if (stopping.getCount() > 0) {
                    failure = t;
                }
            } finally {
                ended.countDown();
            }
        });
        checkpointer = thread("checkpoint-" + name, this::checkpointLoop);
        heartbeat = thread("heartbeat-" + name, this::heartbeatLoop);
    }

    private static Thread thread(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Waits until the source ends by itself (a failure) or the timeout passes; true when ended. */
    boolean awaitEnd(long millis) throws InterruptedException {
        return ended.await(millis, TimeUnit.MILLISECONDS);
    }

    Throwable failure() {
        return failure;
    }

    boolean connected() {
        return source.connected();
    }

    /**
     * Stops reading. With {@code drain}, lets the lanes write what they hold and saves the
     * checkpoint, within the deadline; without, drops everything as a crash would.
     */
    void stop(boolean drain, Duration deadline) {
        long until = System.nanoTime() + deadline.toNanos();
        stopping.countDown();
        source.stop();
        if (!drain) {
            lanes.forEach(Lane::abort);
            sourceThread.interrupt();
            laneThreads.forEach(Thread::interrupt);
            checkpointer.interrupt();
            heartbeat.interrupt();
            return;
        }
        heartbeat.interrupt();
        join(sourceThread, until - deadline.toNanos() / 2);
        if (sourceThread.isAlive()) {
            // the reader waits on a full lane that cannot drain (its side is down)
            sourceThread.interrupt();
        }
        for (Lane lane : lanes) {
            if (!lane.offerStop()) {
                lane.abort();
            }
        }
        for (Thread t : laneThreads) {
            join(t, until - 500_000_000L);
        }
        for (int i = 0; i < lanes.size(); i++) {
            if (laneThreads.get(i).isAlive()) {
                lanes.get(i).abort();
                laneThreads.get(i).interrupt();
            }
        }
        checkpointer.interrupt();
        join(checkpointer, until);
        try {
            saveCheckpoint();
        } catch (RuntimeException e) {
            log.warn("pipeline {}: could not save the checkpoint at shutdown: {}", name, RpctlException.rootMessage(e));
        }
        log.info("pipeline {}: stopped at {}", name, saved);
    }

    private static void join(Thread t, long untilNanos) {
        long ms = Math.max(1, (untilNanos - System.nanoTime()) / 1_000_000);
        try {
            t.join(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void checkpointLoop() {
        long interval = settings.checkpointInterval().toMillis();
        while (stopping.getCount() > 0) {
            try {
                if (stopping.await(interval, TimeUnit.MILLISECONDS)) {
                    return;
                }
                saveCheckpoint();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                metrics.errors.incrementAndGet();
                log.warn("pipeline {}: saving the checkpoint failed: {}", name, RpctlException.rootMessage(e));
            }
        }
    }

    private synchronized void saveCheckpoint() {
        BinlogPosition p = tracker.advance();
        if (p != null && !p.equals(saved)) {
            repo.save(name, p, metrics.appliedBeatMillis(), metrics.lagMillis(System.currentTimeMillis()));
            saved = p;
        }
        metrics.checkpointSaved(saved, System.currentTimeMillis());
    }

    private void heartbeatLoop() {
        long interval = settings.heartbeatInterval().toMillis();
        long failures = 0;
        while (stopping.getCount() > 0) {
            try {
                repo.beat(name, System.currentTimeMillis());
                failures = 0;
                if (stopping.await(interval, TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                metrics.errors.incrementAndGet();
                if (failures++ % 50 == 0) {
                    log.warn("pipeline {}: heartbeat failed: {}", name, RpctlException.rootMessage(e));
                }
                try {
                    if (stopping.await(1000, TimeUnit.MILLISECONDS)) {
                        return;
                    }
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    // --- BinlogSource.Listener, on the reader thread

    @Override
    public void row(RowChange c) throws InterruptedException {
        metrics.events.incrementAndGet();
        if (c.table().equals(heartbeatTable)) {
            Object[] after = c.after();
            if (after != null && name.equals(Values.asString(RowChange.value(after, RowChange.indexOf(c.columns(), "pipeline"))))) {
                Long beat = Values.asLong(RowChange.value(after, RowChange.indexOf(c.columns(), "beat_millis")));
                if (beat != null) {
                    Lane.Beat b = new Lane.Beat(beat, lanes.size());
                    for (Lane lane : lanes) {
                        lane.put(new Lane.Item(null, null, tx(), b, -1));
                    }
                }
            }
            return;
        }
        if (!c.table().equals(claimTable)) {
            return;
        }
        try {
            switch (c.kind()) {
                case INSERT -> putRow(claim(c.columns(), c.after()));
                case DELETE -> putTombstone(claim(c.columns(), c.before()));
                case UPDATE -> {
                    ClaimRow before = claim(c.columns(), c.before());
                    ClaimRow after = claim(c.columns(), c.after());
                    if (before.activityId() != after.activityId() || before.userId() != after.userId()) {
                        // the old key's row is gone: announce that, and fill the new key
                        putTombstone(before);
                    }
                    putRow(after);
                }
            }
        } catch (IllegalArgumentException | ArithmeticException | NullPointerException e) {
            badData(c, e);
        }
    }

    private void badData(RowChange c, RuntimeException e) {
        metrics.badData.incrementAndGet();
        BadDataPolicy policy = settings.onBadData();
        String what = "undecodable " + c.kind().name().toLowerCase(Locale.ROOT) + " of " + c.table() + ": " + e.getMessage();
        if (policy == BadDataPolicy.FAIL) {
            throw RpctlException.badData("pipeline " + name + ": " + what
                    + " (sync.on-bad-data=fail; set it to warn or skip to go past it)");
        }
        if (policy == BadDataPolicy.WARN) {
            log.warn("pipeline {}: {}; skipped", name, what);
        }
    }

    private void putRow(ClaimRow r) throws InterruptedException {
        lane(r.userId()).put(new Lane.Item(protocol.key(r.activityId(), r.userId()), Entry.row(r), tx(), null, r.updatedAtMillis()));
    }

    private void putTombstone(ClaimRow r) throws InterruptedException {
        lane(r.userId()).put(new Lane.Item(protocol.key(r.activityId(), r.userId()), Entry.tombstone(r.version() + 1), tx(), null, -1));
    }

    private TxTracker.Tx tx() {
        TxTracker.Tx t = tracker.current();
        t.add();
        return t;
    }

    private Lane lane(long userId) {
        // spread consecutive ids; one user always maps to the same lane
        long h = userId * 0x9E3779B97F4A7C15L;
        return lanes.get((int) Math.floorMod(h ^ (h >>> 32), (long) lanes.size()));
    }

    private ClaimRow claim(String[] columns, Object[] row) {
        if (columns != indexed) {
            // a new table shape: find the claim's columns once, not once a row
            String[] names = {"activity_id", "user_id", "amount", "status", "request_id", versionColumn, "updated_at"};
            int[] at = new int[names.length];
            for (int i = 0; i < names.length; i++) {
                at[i] = RowChange.indexOf(columns, names[i]);
            }
            claimColumns = at;
            indexed = columns;
        }
        int[] at = claimColumns;
        Object updatedAt = RowChange.value(row, at[6]);
        return new ClaimRow(required(Values.asLong(RowChange.value(row, at[0])), "activity_id"),
                required(Values.asLong(RowChange.value(row, at[1])), "user_id"),
                required(Values.asLong(RowChange.value(row, at[2])), "amount"),
                orEmpty(Values.asString(RowChange.value(row, at[3]))),
                orEmpty(Values.asString(RowChange.value(row, at[4]))),
                required(Values.asLong(RowChange.value(row, at[5])), versionColumn),
                updatedAt == null ? 0L : Values.asMillis(updatedAt));
    }

    private static long required(Long v, String column) {
        if (v == null) {
            throw new IllegalArgumentException("column " + column + " is missing or null");
        }
        return v;
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    @Override
    public void commit(BinlogPosition end) {
        metrics.transactions.incrementAndGet();
        tracker.commit(end);
    }

    @Override
    public void abandon(BinlogPosition resumeFrom) {
        tracker.abandon(resumeFrom);
    }

    @Override
    public void connected(boolean up) {
        metrics.connected(up);
    }
}
