package dev.rpctl.sync;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.binlog.BinlogSource;
import dev.rpctl.binlog.ClaimDecoder;
import dev.rpctl.binlog.RowChange;
import dev.rpctl.binlog.Values;
import dev.rpctl.binlog.XaId;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One leadership of one pipeline: binlog source -> per-user lanes -> one cache side, with the
 * checkpointer and the heartbeat writer beside them. Checkpoints are saved through the pipeline's
 * lock ({@link PipelineLock#save}); a save the lock refuses means this session no longer holds the
 * lock (another daemon may lead already), and the pipeline stops on the spot: lanes aborted
 * before their next write, reader closed, nothing saved ({@link #stopForLostLock()}).
 */
final class Pipeline implements BinlogSource.Listener, Leadership {
    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);

    private final String name;
    private final CacheSide side;
    private final CacheProtocol protocol;
    private final MappingSettings mapping;
    private final SyncSettings settings;
    private final SyncRepository repo;
    private final PipelineLock lock;
    private final SyncMetrics metrics;
    private final BinlogSource source;
    private final String claimTable;
    private final String heartbeatTable;
    private final ClaimDecoder decoder;
    /** Prepared XA transactions by id, each holding the checkpoint until resolved; reader thread only. */
    private final Map<XaId, TxTracker.Tx> prepared = new HashMap<>();
    private final List<Lane> lanes = new ArrayList<>();
    private final List<Thread> laneThreads = new ArrayList<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final CountDownLatch stopping = new CountDownLatch(1);
    private TxTracker tracker;
    private Thread sourceThread;
    private Thread checkpointer;
    private Thread heartbeat;
    private Thread pinger;
    private volatile Throwable failure;
    private volatile boolean lockLost;
    private volatile BinlogPosition saved;
    private long savedBeat;
    /** Where rows are counted instead of the transaction being read: a resolved XA prepare; reader thread only. */
    private TxTracker.Tx routing;
    private final RowHook hook;

    /** Test hook: runs on the reader thread before a claim row is routed, so a test can hold it mid-transaction. */
    interface RowHook {
        void before(String pipeline, RowChange change) throws InterruptedException;
    }

    /** @param namesInEvents the server logs column names (binlog_row_metadata=FULL) */
    Pipeline(String name, long serverId, CacheSide side, CacheProtocol protocol, MappingSettings mapping,
             SyncSettings settings, SyncRepository repo, PipelineLock lock, SyncMetrics metrics, boolean namesInEvents,
             RowHook hook) {
        this.name = name;
        this.side = side;
        this.protocol = protocol;
        this.mapping = mapping;
        this.settings = settings;
        this.repo = repo;
        this.lock = lock;
        this.metrics = metrics;
        this.claimTable = mapping.claimTable().toLowerCase(Locale.ROOT);
        this.heartbeatTable = mapping.heartbeatTable().toLowerCase(Locale.ROOT);
        this.decoder = new ClaimDecoder(mapping.versionColumn());
        this.hook = hook;
        this.source = new BinlogSource(name, repo.database().settings(), serverId,
                new BinlogSource.Tables(Set.of(claimTable, heartbeatTable), repo::columns, namesInEvents),
                settings.keepaliveInterval(), this).bound(settings.maxEventBytes(), settings.onBadData(), metrics.badData);
    }

    @Override
    public void start(BinlogPosition from) {
        tracker = new TxTracker(from);
        saved = from;
        for (int i = 0; i < settings.lanes(); i++) {
            Lane lane = new Lane(name + "-" + i, settings.queueCapacity(), settings.batchSize(), side, protocol, metrics,
                    settings.onBadData(), this::laneFailed);
            lanes.add(lane);
            laneThreads.add(thread("lane-" + name + "-" + i, lane));
        }
        metrics.laneDepths(() -> lanes.stream().map(Lane::depth).toList());
        metrics.laneRetries(() -> {
            List<SyncMetrics.LaneRetry> out = new ArrayList<>();
            for (int i = 0; i < lanes.size(); i++) {
                long since = lanes.get(i).retryingSinceMillis();
                if (since > 0) {
                    out.add(new SyncMetrics.LaneRetry(i, since, lanes.get(i).retryError()));
                }
            }
            return out;
        });
        sourceThread = thread("binlog-" + name, () -> {
            try {
                source.run(from);
            } catch (Throwable t) {
                if (stopping.getCount() > 0 && failure == null) {
                    failure = t;
                }
            } finally {
                ended.countDown();
            }
        });
        checkpointer = thread("checkpoint-" + name, this::checkpointLoop);
        heartbeat = thread("heartbeat-" + name, this::heartbeatLoop);
        pinger = thread("ping-" + name, this::pingLoop);
    }

    private static Thread thread(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * A lane met bad data under sync.on-bad-data=fail: the pipeline ends with it. The reader may be
     * waiting on that lane's full queue, so it is interrupted as well as disconnected.
     */
    private void laneFailed(RpctlException e) {
        synchronized (this) {
            if (failure != null) {
                return;
            }
            failure = new RpctlException(e.exitCode(), "pipeline " + name + ": " + e.getMessage(), e);
        }
        source.stop();
        Thread reader = sourceThread;
        if (reader != null) {
            reader.interrupt();
        }
    }

    /** Waits until the source ends by itself (a failure, a lost lock) or the timeout passes; true when ended. */
    @Override
    public boolean awaitEnd(long millis) throws InterruptedException {
        return ended.await(millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public Throwable failure() {
        return failure;
    }

    /** Whether the pipeline stopped because its session no longer holds the lock. */
    @Override
    public boolean lostLock() {
        return lockLost;
    }

    /**
     * The pipeline's lock is no longer this session's: stops writing at once, from whichever thread
     * found out. The lanes are aborted before their next batch (one already sent is not recalled),
     * the reader is closed, and nothing more is saved; {@link #stop} then only waits for the threads.
     */
    @Override
    public void stopForLostLock() {
        if (lockLost) {
            return;
        }
        lockLost = true;
        lanes.forEach(Lane::abort);
        laneThreads.forEach(Thread::interrupt);
        stopping.countDown();
        source.stop();
        ended.countDown();
    }

    boolean connected() {
        return source.connected();
    }

    /**
     * Stops reading. With {@code drain}, lets the lanes write what they hold and saves the
     * checkpoint, within the deadline whatever the side does: a lane that has not finished by then
     * (its side down or stuck) is left with its batch unapplied, and the checkpoint stays behind
     * that batch, so the next start applies it. Without, drops everything as a crash would.
     */
    @Override
    public void stop(boolean drain, Duration deadline) {
        long until = System.nanoTime() + deadline.toNanos();
        stopping.countDown();
        source.stop();
        if (!drain || lockLost) {
            lanes.forEach(Lane::abort);
            sourceThread.interrupt();
            laneThreads.forEach(Thread::interrupt);
            checkpointer.interrupt();
            heartbeat.interrupt();
            pinger.interrupt();
            // a lane in the middle of a batch finishes that one call; none starts another
            for (Thread t : laneThreads) {
                join(t, until);
            }
            join(sourceThread, until);
            return;
        }
        heartbeat.interrupt();
        pinger.interrupt();
        join(sourceThread, Math.min(until, System.nanoTime() + 1_000_000_000L));
        if (sourceThread.isAlive()) {
            // the reader waits on a full lane: what it has not routed is not checkpointed either
            sourceThread.interrupt();
        }
        lanes.forEach(Lane::drain);
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
        if (lockLost) {
            return;
        }
        BinlogPosition p = tracker.advance();
        long beat = metrics.appliedBeatMillis();
        // saved again with the fresh lag when only beats moved: a checkpoint held below a pending
        // XA prepare must not read as a stalled pipeline in 'rpctl status'
        if (p != null && (!p.equals(saved) || beat != savedBeat)) {
            if (!lock.save(p, beat, metrics.lagMillis(System.currentTimeMillis()))) {
                metrics.errors.incrementAndGet();
                log.warn("pipeline {}: the checkpoint save was refused: the lock's session no longer holds the pipeline's"
                        + " lock; stopping its lanes and reader", name);
                stopForLostLock();
                return;
            }
            saved = p;
            savedBeat = beat;
        }
        metrics.checkpointSaved(saved, System.currentTimeMillis());
    }

    /**
     * Pings the side once a second: rpctl_sync_side_up, and one log line when the side stops
     * answering and one when it answers again (a lane that cannot write retries without a word).
     */
    private void pingLoop() {
        boolean up = true;
        while (stopping.getCount() > 0) {
            boolean now;
            String why = null;
            try {
                side.ping();
                now = true;
            } catch (RuntimeException e) {
                now = false;
                why = RpctlException.rootMessage(e);
            }
            metrics.sideUp(now);
            if (now != up) {
                if (now) {
                    log.info("pipeline {}: side {} answers again", name, side.name());
                } else {
                    log.warn("pipeline {}: side {} at {} does not answer ({}); its changes wait in the lanes", name,
                            side.name(), side.address(), why);
                }
                up = now;
            }
            try {
                if (stopping.await(1000, TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            }
        }
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
                        lane.put(new Lane.Item(null, null, -1, -1, tx(), b, -1));
                    }
                }
            }
            return;
        }
        if (!c.table().equals(claimTable)) {
            return;
        }
        if (hook != null) {
            hook.before(name, c);
        }
        try {
            switch (c.kind()) {
                case INSERT -> putRow(decoder.after(c));
                case DELETE -> putTombstone(decoder.before(c));
                case UPDATE -> {
                    ClaimRow before = decoder.before(c);
                    ClaimRow after = decoder.after(c);
                    boolean sameKey = before.activityId() == after.activityId() && before.userId() == after.userId();
                    if (!sameKey) {
                        // the old key's row is gone: announce that, and fill the new key
                        putTombstone(before);
                    }
                    putRow(after);
                    if (sameKey && after.version() <= before.version()) {
                        // applied all the same: it is the row as it is now; but the caches' compare-and-set
                        // keeps whatever it already holds at this version, so a writer bypassed the version rule
                        badData(c, "its version did not rise (" + before.version() + " -> " + after.version()
                                + ") for " + protocol.key(after.activityId(), after.userId())
                                + "; every write must raise it, or a cache entry of that version stays as it was", "applied");
                    }
                }
            }
        } catch (IllegalArgumentException | ArithmeticException | NullPointerException e) {
            badData(c, "undecodable: " + e.getMessage(), "skipped");
        }
    }

    /** The sync.on-bad-data policy: fail (exit 65), warn and go on, or count only. */
    private void badData(RowChange c, String problem, String outcome) {
        metrics.badData.incrementAndGet();
        BadDataPolicy policy = settings.onBadData();
        String what = c.kind().name().toLowerCase(Locale.ROOT) + " of " + c.table() + ": " + problem;
        if (policy == BadDataPolicy.FAIL) {
            throw RpctlException.badData("pipeline " + name + ": " + what
                    + " (sync.on-bad-data=fail; set it to warn or skip to go past it)");
        }
        if (policy == BadDataPolicy.WARN) {
            log.warn("pipeline {}: {}; {}", name, what, outcome);
        }
    }

    private void putRow(ClaimRow r) throws InterruptedException {
        lane(r.userId()).put(new Lane.Item(protocol.key(r.activityId(), r.userId()), Entry.row(r), r.activityId(), r.userId(), tx(), null,
                r.updatedAtMillis()));
    }

    private void putTombstone(ClaimRow r) throws InterruptedException {
        lane(r.userId()).put(new Lane.Item(protocol.key(r.activityId(), r.userId()), Entry.tombstone(r.version() + 1), r.activityId(), r.userId(),
                tx(), null, -1));
    }

    private TxTracker.Tx tx() {
        TxTracker.Tx t = routing != null ? routing : tracker.current();
        t.add();
        return t;
    }

    private Lane lane(long userId) {
        return lanes.get(laneOf(userId, lanes.size()));
    }

    /** The lane of a user among n: consecutive ids are spread; one user always maps to the same lane. */
    static int laneOf(long userId, int n) {
        long h = userId * 0x9E3779B97F4A7C15L;
        return (int) Math.floorMod(h ^ (h >>> 32), (long) n);
    }

    @Override
    public void commit(BinlogPosition end) {
        metrics.transactions.incrementAndGet();
        tracker.commit(end);
    }

    @Override
    public void prepared(XaId xid, BinlogPosition end) {
        metrics.transactions.incrementAndGet();
        prepared.put(xid, tracker.hold(end));
    }

    @Override
    public void resolved(XaId xid, boolean committed, List<RowChange> rows, BinlogPosition end) throws InterruptedException {
        TxTracker.Tx held = prepared.remove(xid);
        if (rows == null) {
            metrics.xaUnmatched.incrementAndGet();
            log.warn("pipeline {}: XA {} {} read at {} without its XA PREPARE (the pipeline started after it);{}",
                    name, committed ? "COMMIT" : "ROLLBACK", xid, end,
                    committed ? " its rows are not applied: run 'rpctl reconcile'" : " nothing to undo");
        } else if (committed) {
            // under the prepare's transaction: the checkpoint passes the prepare only once they are written
            routing = held;
            try {
                for (RowChange c : rows) {
                    row(c);
                }
            } finally {
                routing = null;
            }
        }
        if (held != null) {
            held.done();
        }
        commit(end);
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
