package dev.rpctl.sync;

import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.binlog.BinlogSource;
import dev.rpctl.binlog.ClaimDecoder;
import dev.rpctl.binlog.RowChange;
import dev.rpctl.binlog.Values;
import dev.rpctl.binlog.XaId;
import dev.rpctl.config.BadDataPolicy;
import dev.rpctl.config.MappingSettings;
import dev.rpctl.config.SyncSettings;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One leadership of one pipeline: the binlog source, read from the checkpoint, and its claim
 * changes handed to a {@link Sink}: the ordered lanes of one cache side ({@link SideSink}), or
 * the Kafka topic ({@link KafkaPublisher}); with the checkpointer and the heartbeat writer beside
 * them. Checkpoints are saved through the pipeline's lock ({@link PipelineLock#save}); a save the
 * lock refuses means this session no longer holds the lock (another daemon may lead already), and
 * the pipeline stops on the spot: the sink aborted before its next write, reader closed, nothing
 * saved ({@link #stopForLostLock()}).
 */
final class Pipeline implements BinlogSource.Listener {
    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);

    /**
     * Where a pipeline's changes go, called on the reader thread (but {@link #abort} and
     * {@link #drain}). Each change is counted in the transaction the sink gets it under
     * ({@link TxTracker.Tx#add()}) and done when it is written, so the checkpoint passes a
     * transaction only once the sink has written all of it.
     */
    interface Sink {
        /**
         * Before the reader starts: make the lanes or the producer. {@code stopping} opens when the
         * pipeline stops; {@code fail} ends it (bad data under sync.on-bad-data=fail, a refused
         * command, a send the producer gave up on).
         */
        void open(BinlogPosition from, TxTracker tracker, CountDownLatch stopping, Consumer<RpctlException> fail);

        /** This pipeline's heartbeat row, written at {@code beatMillis}, read back from the binlog. */
        void beat(long beatMillis) throws InterruptedException;

        /** A claim row inserted ({@code before} null), updated, or deleted ({@code after} null). */
        void change(ClaimRow before, ClaimRow after) throws InterruptedException;

        /** After each row of the claim table, read or skipped. */
        default void rowRead() {
        }

        /** The transaction read so far ends at {@code end}; before the tracker closes it. */
        void commit(BinlogPosition end);

        /** An XA transaction was prepared, its rows held by the reader until it is resolved. */
        default void prepared(BinlogPosition end) {
        }

        /** The rows of a committed XA transaction follow, counted under {@code held}. */
        void resolving(TxTracker.Tx held);

        /** They have all been read (or reading them failed). */
        void resolvingEnds();

        /** After the rows of a resolved XA transaction ending at {@code end}, counted under {@code tx}. */
        default void resolved(TxTracker.Tx tx, BinlogPosition end) {
        }

        /** The transaction being read is dropped: it is read again from {@code resumeFrom}. */
        default void abandon(BinlogPosition resumeFrom) {
        }

        /** Stops at once, before the next write; what is in hand stays unwritten (and unchecked). */
        void abort();

        /** After an {@link #abort}: waits, until {@code untilNanos}, for the sink's threads to end. */
        default void awaitAborted(long untilNanos) {
        }

        /** Writes what it holds, within {@code untilNanos}; what it cannot by then stays above the checkpoint. */
        void drain(long untilNanos);
    }

    /** Test hook: runs on the reader thread before a claim row is handed to the sink, so a test can hold it mid-transaction. */
    interface RowHook {
        void before(String pipeline, RowChange change) throws InterruptedException;
    }

    private final String name;
    private final SyncSettings settings;
    private final SyncRepository repo;
    private final PipelineLock lock;
    private final SyncMetrics metrics;
    private final BinlogSource source;
    private final String claimTable;
    private final String heartbeatTable;
    private final ClaimDecoder decoder;
    private final CacheProtocol versionsChecked;
    private final RowHook hook;
    private final Sink sink;
    /** Prepared XA transactions by id, each holding the checkpoint until resolved; reader thread only. */
    private final Map<XaId, TxTracker.Tx> prepared = new HashMap<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final CountDownLatch stopping = new CountDownLatch(1);
    private TxTracker tracker;
    private Thread sourceThread;
    private Thread checkpointer;
    private Thread heartbeat;
    private volatile Throwable failure;
    private volatile boolean lockLost;
    private volatile SyncService.PipelineHook checkpointHook;
    private volatile BinlogPosition saved;
    private long savedBeat;

    /**
     * @param namesInEvents the server logs column names (binlog_row_metadata=FULL)
     * @param versionsChecked where an update whose version did not rise is reported as bad data,
     *                        naming its cache key: the direct pipeline, which writes the caches;
     *                        null for the publisher, which passes the row on
     */
    Pipeline(String name, long serverId, MappingSettings mapping, SyncSettings settings, SyncRepository repo,
             PipelineLock lock, SyncMetrics metrics, boolean namesInEvents, RowHook hook, CacheProtocol versionsChecked,
             Sink sink) {
        this.name = name;
        this.settings = settings;
        this.repo = repo;
        this.lock = lock;
        this.metrics = metrics;
        this.claimTable = mapping.claimTable().toLowerCase(Locale.ROOT);
        this.heartbeatTable = mapping.heartbeatTable().toLowerCase(Locale.ROOT);
        this.decoder = new ClaimDecoder(mapping.versionColumn());
        this.hook = hook;
        this.versionsChecked = versionsChecked;
        this.sink = sink;
        this.source = new BinlogSource(name, repo.database().settings(), serverId,
                new BinlogSource.Tables(Set.of(claimTable, heartbeatTable), repo::columns, namesInEvents),
                settings.keepaliveInterval(), this).bound(settings.maxEventBytes(), settings.onBadData(), metrics.badData);
    }

    void start(BinlogPosition from) {
        tracker = new TxTracker(from);
        saved = from;
        sink.open(from, tracker, stopping, this::fail);
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
    }

    /** The lane of a user among n: consecutive ids are spread; one user always maps to the same lane. */
    static int laneOf(long userId, int n) {
        long h = userId * 0x9E3779B97F4A7C15L;
        return (int) Math.floorMod(h ^ (h >>> 32), (long) n);
    }

    static Thread thread(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * The sink failed for good (bad data under sync.on-bad-data=fail, a send the producer gave
     * up on): the pipeline ends with it. The reader may be waiting on the sink (a full lane), so
     * it is interrupted as well as disconnected.
     */
    private void fail(RpctlException e) {
        synchronized (this) {
            // after a lost lock the sink's aborted writes fail too: the pipeline stands by, it did not fail
            if (failure != null || lockLost) {
                return;
            }
            failure = e;
        }
        source.stop();
        Thread reader = sourceThread;
        if (reader != null) {
            reader.interrupt();
        }
    }

    /** Waits until the source ends by itself (a failure, a lost lock) or the timeout passes; true when ended. */
    boolean awaitEnd(long millis) throws InterruptedException {
        return ended.await(millis, TimeUnit.MILLISECONDS);
    }

    Throwable failure() {
        return failure;
    }

    /** Test hook: runs on the checkpoint thread before each periodic save. */
    void beforeCheckpoint(SyncService.PipelineHook hook) {
        this.checkpointHook = hook;
    }

    /** Whether the pipeline stopped because its session no longer holds the lock. */
    boolean lostLock() {
        return lockLost;
    }

    /**
     * The pipeline's lock is no longer this session's: stops writing at once, from whichever thread
     * found out. The sink is aborted before its next write (one already sent is not recalled),
     * the reader is closed, and nothing more is saved; {@link #stop} then only waits for the threads.
     */
    void stopForLostLock() {
        synchronized (this) {
            if (lockLost) {
                return;
            }
            lockLost = true;
        }
        // outside the monitor: aborting a producer runs its send callbacks, which report through fail()
        stopping.countDown();
        sink.abort();
        source.stop();
        ended.countDown();
    }

    boolean connected() {
        return source.connected();
    }

    /**
     * Stops reading. With {@code drain}, lets the sink write what it holds and saves the
     * checkpoint, within the deadline whatever the side or the broker does: what the sink has not
     * written by then is left, and the checkpoint stays behind it, so the next start reads it
     * again. Without, drops everything as a crash would.
     */
    void stop(boolean drain, Duration deadline) {
        long until = System.nanoTime() + deadline.toNanos();
        stopping.countDown();
        source.stop();
        heartbeat.interrupt();
        if (!drain || lockLost) {
            sink.abort();
            sourceThread.interrupt();
            checkpointer.interrupt();
            // a lane in the middle of a batch finishes that one call; none starts another
            sink.awaitAborted(until);
            join(sourceThread, until);
            return;
        }
        join(sourceThread, Math.min(until, System.nanoTime() + 1_000_000_000L));
        if (sourceThread.isAlive()) {
            // the reader waits on a full lane: what it has not handed over is not checkpointed either
            sourceThread.interrupt();
        }
        sink.drain(until);
        checkpointer.interrupt();
        join(checkpointer, until);
        try {
            saveCheckpoint();
        } catch (RuntimeException e) {
            log.warn("pipeline {}: could not save the checkpoint at shutdown: {}", name, RpctlException.rootMessage(e));
        }
        log.info("pipeline {}: stopped at {}", name, saved);
    }

    static void join(Thread t, long untilNanos) {
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
                SyncService.PipelineHook h = checkpointHook;
                if (h != null) {
                    h.at(name);
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

    private void saveCheckpoint() {
        if (!trySaveCheckpoint()) {
            stopForLostLock();
        }
    }

    /** Saves the checkpoint through the lock's session; false when the save was refused (the lock is lost). */
    private synchronized boolean trySaveCheckpoint() {
        if (lockLost) {
            return true;
        }
        BinlogPosition p = tracker.advance();
        long beat = metrics.appliedBeatMillis();
        // saved again with the fresh lag when only beats moved: a checkpoint held below a pending
        // XA prepare must not read as a stalled pipeline in 'rpctl status'
        if (p != null && (!p.equals(saved) || beat != savedBeat)) {
            if (!lock.save(p, beat, metrics.lagMillis(System.currentTimeMillis()))) {
                metrics.errors.incrementAndGet();
                log.warn("pipeline {}: the checkpoint save was refused: the lock's session no longer holds the pipeline's"
                        + " lock; stopping its writes and reader", name);
                return false;
            }
            saved = p;
            savedBeat = beat;
        }
        metrics.checkpointSaved(saved, System.currentTimeMillis());
        return true;
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
                    sink.beat(beat);
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
                case INSERT -> sink.change(null, decoder.after(c));
                case DELETE -> sink.change(decoder.before(c), null);
                case UPDATE -> {
                    ClaimRow before = decoder.before(c);
                    ClaimRow after = decoder.after(c);
                    sink.change(before, after);
                    boolean sameKey = before.activityId() == after.activityId() && before.userId() == after.userId();
                    if (versionsChecked != null && sameKey && after.version() <= before.version()) {
                        // applied all the same: it is the row as it is now; but the caches' compare-and-set
                        // keeps whatever it already holds at this version, so a writer bypassed the version rule
                        badData(c, "its version did not rise (" + before.version() + " -> " + after.version()
                                + ") for " + versionsChecked.key(after.activityId(), after.userId())
                                + "; every write must raise it, or a cache entry of that version stays as it was", "applied");
                    }
                }
            }
        } catch (IllegalArgumentException | ArithmeticException | NullPointerException e) {
            badData(c, "undecodable: " + e.getMessage(), "skipped");
        }
        sink.rowRead();
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

    @Override
    public void commit(BinlogPosition end) {
        metrics.transactions.incrementAndGet();
        sink.commit(end);
        tracker.commit(end);
    }

    @Override
    public void prepared(XaId xid, BinlogPosition end) {
        metrics.transactions.incrementAndGet();
        prepared.put(xid, tracker.hold(end));
        sink.prepared(end);
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
            TxTracker.Tx under = held != null ? held : tracker.current();
            sink.resolving(held);
            try {
                for (RowChange c : rows) {
                    row(c);
                }
            } finally {
                sink.resolvingEnds();
            }
            sink.resolved(under, end);
        }
        if (held != null) {
            held.done();
        }
        commit(end);
    }

    @Override
    public void abandon(BinlogPosition resumeFrom) {
        sink.abandon(resumeFrom);
        tracker.abandon(resumeFrom);
    }

    @Override
    public void connected(boolean up) {
        metrics.connected(up);
    }
}
