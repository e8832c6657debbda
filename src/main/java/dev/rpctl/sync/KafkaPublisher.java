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
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.kafka.KafkaClients;
import dev.rpctl.kafka.RpctlFormat;
import dev.rpctl.protocol.ClaimRow;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One leadership of the publisher pipeline: binlog -> Kafka topic, for the appliers of every side
 * to consume ({@code sync-daemon --sink kafka}). The same reader, lock and checkpoint table as a
 * direct pipeline; where the direct pipeline's lanes write a side, this sends each claim change
 * as one message keyed by activity and user ({@link RpctlFormat}) through an idempotent producer.
 * <p>
 * A transaction's messages are sent when its commit is read, carrying its end position and GTID
 * (one of more than {@link #HOLD_AT} changes as it is read, carrying where it starts);
 * each counts in {@link TxTracker} until the broker acknowledges it, so the checkpoint moves only
 * past changes that are in the topic. A send the producer gives up on ends the leadership (exit
 * 69, or the next leadership retries from the checkpoint). Heartbeats read back from the binlog
 * go to every partition, behind whatever each holds, so an applier measures its lag end to end.
 */
final class KafkaPublisher implements BinlogSource.Listener, Leadership {
    private static final Logger log = LoggerFactory.getLogger(KafkaPublisher.class);

    /** A change read in the transaction being read, sent at its commit. */
    private record Draft(String op, ClaimRow before, ClaimRow after, long beatMillis) {}

    private final String name;
    private final SyncSettings settings;
    private final SyncRepository repo;
    private final PipelineLock lock;
    private final SyncMetrics metrics;
    private final KafkaClients clients;
    private final String topic;
    private final BinlogSource source;
    private final String claimTable;
    private final String heartbeatTable;
    private final ClaimDecoder decoder;
    private final Pipeline.RowHook hook;
    private final AckHook ackHook;
    private final Map<XaId, TxTracker.Tx> prepared = new HashMap<>();
    /**
     * Changes of a transaction held until its commit is read, so they carry its end; a transaction
     * with more than this many is sent as it is read instead, so memory stays bounded.
     */
    static final int HOLD_AT = 1000;

    /** The transaction being read; reader thread only. */
    private final List<Draft> drafts = new ArrayList<>();
    /** Where the transaction being read starts (the previous one's end); reader thread only. */
    private BinlogPosition lastEnd;
    /** The transaction being read is too large to hold: its changes go out as they are read; reader thread only. */
    private boolean streaming;
    /** Rows of a resolved XA transaction are being handed over (held by the reader already): never streamed. */
    private boolean resolving;
    private final CountDownLatch ended = new CountDownLatch(1);
    private final CountDownLatch stopping = new CountDownLatch(1);
    private KafkaProducer<String, byte[]> producer;
    private int partitions;
    private TxTracker tracker;
    private Thread sourceThread;
    private Thread checkpointer;
    private Thread heartbeat;
    private volatile Throwable failure;
    private volatile boolean lockLost;
    private volatile BinlogPosition saved;
    private long savedBeat;

    /** Test hook: runs on the producer's thread when the broker has acknowledged a message, before it counts as sent. */
    interface AckHook {
        void acknowledged(String key) throws InterruptedException;
    }

    KafkaPublisher(String name, long serverId, MappingSettings mapping, SyncSettings settings, SyncRepository repo,
                   PipelineLock lock, SyncMetrics metrics, boolean namesInEvents, KafkaClients clients,
                   Pipeline.RowHook hook, AckHook ackHook) {
        this.name = name;
        this.settings = settings;
        this.repo = repo;
        this.lock = lock;
        this.metrics = metrics;
        this.clients = clients;
        this.topic = clients.settings().topic();
        this.claimTable = mapping.claimTable().toLowerCase(Locale.ROOT);
        this.heartbeatTable = mapping.heartbeatTable().toLowerCase(Locale.ROOT);
        this.decoder = new ClaimDecoder(mapping.versionColumn());
        this.hook = hook;
        this.ackHook = ackHook;
        this.source = new BinlogSource(name, repo.database().settings(), serverId,
                new BinlogSource.Tables(Set.of(claimTable, heartbeatTable), repo::columns, namesInEvents),
                settings.keepaliveInterval(), this);
    }

    @Override
    public void start(BinlogPosition from) {
        tracker = new TxTracker(from);
        saved = from;
        lastEnd = from;
        partitions = clients.ensureTopic(topic);
        producer = clients.producer("rpctl-" + name + "-" + PipelineLock.PROCESS);
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

    private static Thread thread(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** A send failed for good, or bad data under fail: the leadership ends with it. */
    private void failed(RpctlException e) {
        synchronized (this) {
            if (failure != null) {
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

    @Override
    public boolean awaitEnd(long millis) throws InterruptedException {
        return ended.await(millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public Throwable failure() {
        return failure;
    }

    @Override
    public boolean lostLock() {
        return lockLost;
    }

    @Override
    public void stopForLostLock() {
        if (lockLost) {
            return;
        }
        lockLost = true;
        stopping.countDown();
        source.stop();
        // what is sent is in the topic, twice at worst: the next leader reads from the saved checkpoint
        producer.close(Duration.ZERO);
        ended.countDown();
    }

    @Override
    public void stop(boolean drain, Duration deadline) {
        long until = System.nanoTime() + deadline.toNanos();
        stopping.countDown();
        source.stop();
        heartbeat.interrupt();
        if (!drain || lockLost) {
            sourceThread.interrupt();
            checkpointer.interrupt();
            producer.close(Duration.ZERO);
            join(sourceThread, until);
            return;
        }
        join(sourceThread, Math.min(until, System.nanoTime() + 1_000_000_000L));
        if (sourceThread.isAlive()) {
            sourceThread.interrupt();
        }
        checkpointer.interrupt();
        join(checkpointer, until);
        // waits for the acknowledgements of what was sent; what is not acknowledged by then stays above the checkpoint
        producer.close(Duration.ofNanos(Math.max(0, until - System.nanoTime() - 500_000_000L)));
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
        if (p != null && (!p.equals(saved) || beat != savedBeat)) {
            if (!lock.save(p, beat, metrics.lagMillis(System.currentTimeMillis()))) {
                metrics.errors.incrementAndGet();
                log.warn("pipeline {}: the checkpoint save was refused: the lock's session no longer holds the pipeline's"
                        + " lock; stopping", name);
                stopForLostLock();
                return;
            }
            saved = p;
            savedBeat = beat;
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
                    drafts.add(new Draft("heartbeat", null, null, beat));
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
                case INSERT -> drafts.add(new Draft("insert", null, decoder.after(c), 0));
                case DELETE -> drafts.add(new Draft("delete", decoder.before(c), null, 0));
                case UPDATE -> {
                    ClaimRow before = decoder.before(c);
                    ClaimRow after = decoder.after(c);
                    if (before.activityId() == after.activityId() && before.userId() == after.userId()) {
                        drafts.add(new Draft("update", before, after, 0));
                    } else {
                        // two keys, two partitions: each key's change goes in its own key's order
                        drafts.add(new Draft("delete", before, null, 0));
                        drafts.add(new Draft("insert", null, after, 0));
                    }
                }
            }
        } catch (IllegalArgumentException | ArithmeticException | NullPointerException e) {
            badData(c, "undecodable: " + e.getMessage());
        }
        if (!resolving && (streaming || drafts.size() >= HOLD_AT)) {
            // counted under the transaction all the same: the checkpoint passes it only once all is acknowledged
            streaming = true;
            send(tracker.current(), lastEnd, false);
        }
    }

    /** The sync.on-bad-data policy for a row the publisher cannot read: fail (exit 65), warn, or count only. */
    private void badData(RowChange c, String problem) {
        metrics.badData.incrementAndGet();
        BadDataPolicy policy = settings.onBadData();
        String what = c.kind().name().toLowerCase(Locale.ROOT) + " of " + c.table() + ": " + problem;
        if (policy == BadDataPolicy.FAIL) {
            throw RpctlException.badData("pipeline " + name + ": " + what
                    + " (sync.on-bad-data=fail; set it to warn or skip to go past it)");
        }
        if (policy == BadDataPolicy.WARN) {
            log.warn("pipeline {}: {}; skipped", name, what);
        }
    }

    /**
     * Sends the changes read so far, counted under {@code tx}: with {@code atEnd}, of a transaction
     * ending at {@code at}; else of one starting there, whose end is not read yet.
     */
    private void send(TxTracker.Tx tx, BinlogPosition at, boolean atEnd) {
        for (Draft d : drafts) {
            if (d.op().equals("heartbeat")) {
                byte[] value = RpctlFormat.heartbeat(name, d.beatMillis(), at, atEnd);
                Lane.Beat beat = new Lane.Beat(d.beatMillis(), partitions);
                for (int p = 0; p < partitions; p++) {
                    tx.add();
                    send(new ProducerRecord<>(topic, p, "heartbeat", value), tx, beat);
                }
                continue;
            }
            ClaimRow r = d.after() != null ? d.after() : d.before();
            long millis = d.after() != null && d.after().updatedAtMillis() > 0 ? d.after().updatedAtMillis()
                    : System.currentTimeMillis();
            tx.add();
            send(new ProducerRecord<>(topic, RpctlFormat.key(r.activityId(), r.userId()),
                    RpctlFormat.change(claimTable, d.op(), d.before(), d.after(), at, atEnd, millis)), tx, null);
        }
        drafts.clear();
    }

    private void send(ProducerRecord<String, byte[]> record, TxTracker.Tx tx, Lane.Beat beat) {
        try {
            producer.send(record, (meta, e) -> {
                if (e != null) {
                    metrics.errors.incrementAndGet();
                    RpctlException why = clients.failure(e, KafkaClients.Use.PUBLISH, topic);
                    failed(why.exitCode() != ExitCode.UNAVAILABLE
                            ? new RpctlException(why.exitCode(), "pipeline " + name + ": " + why.getMessage(), e)
                            : new RpctlException(ExitCode.UNAVAILABLE, "pipeline " + name + ": kafka at "
                            + clients.settings().bootstrap() + " did not take a message for " + topic + ": "
                            + RpctlException.rootMessage(e), e));
                    return;
                }
                if (ackHook != null) {
                    try {
                        ackHook.acknowledged(record.key());
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                }
                if (beat != null) {
                    if (beat.reached()) {
                        metrics.beatApplied(beat.millis, System.currentTimeMillis());
                    }
                } else {
                    metrics.rowsApplied.incrementAndGet();
                }
                tx.done();
            });
        } catch (RuntimeException e) {
            // the producer is closed (stopping), the topic's metadata did not come within max.block.ms, or it was refused
            if (stopping.getCount() > 0) {
                failed(clients.failure(e, KafkaClients.Use.PUBLISH, topic));
            }
        }
    }

    @Override
    public void commit(BinlogPosition end) {
        metrics.transactions.incrementAndGet();
        if (!drafts.isEmpty()) {
            send(tracker.current(), streaming ? lastEnd : end, !streaming);
        }
        streaming = false;
        tracker.commit(end);
        lastEnd = end;
    }

    @Override
    public void prepared(XaId xid, BinlogPosition end) {
        metrics.transactions.incrementAndGet();
        prepared.put(xid, tracker.hold(end));
        lastEnd = end;
    }

    @Override
    public void resolved(XaId xid, boolean committed, List<RowChange> rows, BinlogPosition end) throws InterruptedException {
        TxTracker.Tx held = prepared.remove(xid);
        if (rows == null) {
            metrics.xaUnmatched.incrementAndGet();
            log.warn("pipeline {}: XA {} {} read at {} without its XA PREPARE (the pipeline started after it);{}",
                    name, committed ? "COMMIT" : "ROLLBACK", xid, end,
                    committed ? " its rows are not published: run 'rpctl reconcile'" : " nothing to undo");
        } else if (committed) {
            resolving = true;
            try {
                for (RowChange c : rows) {
                    row(c);
                }
            } finally {
                resolving = false;
            }
            // under the prepare's transaction: the checkpoint passes the prepare only once they are acknowledged
            send(held != null ? held : tracker.current(), end, true);
        }
        if (held != null) {
            held.done();
        }
        commit(end);
    }

    @Override
    public void abandon(BinlogPosition resumeFrom) {
        // what a streamed transaction sent already is sent again when it is read again: a no-op for the appliers
        drafts.clear();
        streaming = false;
        tracker.abandon(resumeFrom);
        lastEnd = resumeFrom;
    }

    @Override
    public void connected(boolean up) {
        metrics.connected(up);
    }
}
