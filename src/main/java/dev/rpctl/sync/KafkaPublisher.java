package dev.rpctl.sync;

import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.kafka.KafkaClients;
import dev.rpctl.kafka.RpctlFormat;
import dev.rpctl.protocol.ClaimRow;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * The publisher pipeline's sink ({@code sync-daemon --sink kafka}): where the direct pipeline's
 * lanes write a side, this sends each claim change as one message keyed by activity and user
 * ({@link RpctlFormat}) through an idempotent producer, for the appliers of every side to consume.
 * <p>
 * A transaction's messages are sent when its commit is read, carrying its end position and GTID
 * (one of more than {@link #HOLD_AT} changes as it is read, carrying where it starts);
 * each counts in {@link TxTracker} until the broker acknowledges it, so the checkpoint moves only
 * past changes that are in the topic. A send the producer gives up on ends the leadership (exit
 * 69, or the next leadership retries from the checkpoint). Heartbeats read back from the binlog
 * go to every partition, behind whatever each holds, so an applier measures its lag end to end.
 */
final class KafkaPublisher implements Pipeline.Sink {
    /** A change read in the transaction being read, sent at its commit. */
    private record Draft(String op, ClaimRow before, ClaimRow after, long beatMillis) {}

    private final String name;
    private final String claimTable;
    private final SyncMetrics metrics;
    private final KafkaClients clients;
    private final String topic;
    private final AckHook ackHook;
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
    private KafkaProducer<String, byte[]> producer;
    private int partitions;
    private TxTracker tracker;
    private CountDownLatch stopping;
    private Consumer<RpctlException> fail;

    /** Test hook: runs on the producer's thread when the broker has acknowledged a message, before it counts as sent. */
    interface AckHook {
        void acknowledged(String key) throws InterruptedException;
    }

    /** @param claimTable the mapped claim table, lower case, as the messages name it */
    KafkaPublisher(String name, String claimTable, SyncMetrics metrics, KafkaClients clients, AckHook ackHook) {
        this.name = name;
        this.claimTable = claimTable;
        this.metrics = metrics;
        this.clients = clients;
        this.topic = clients.settings().topic();
        this.ackHook = ackHook;
    }

    @Override
    public void open(BinlogPosition from, TxTracker tracker, CountDownLatch stopping, Consumer<RpctlException> fail) {
        this.tracker = tracker;
        this.stopping = stopping;
        this.fail = fail;
        lastEnd = from;
        partitions = clients.ensureTopic(topic);
        producer = clients.producer("rpctl-" + name + "-" + PipelineLock.PROCESS);
    }

    @Override
    public void abort() {
        // what is sent is in the topic, twice at worst: the next leader reads from the saved checkpoint
        producer.close(Duration.ZERO);
    }

    @Override
    public void drain(long untilNanos) {
        // waits for the acknowledgements of what was sent; what is not acknowledged by then stays above the checkpoint
        producer.close(Duration.ofNanos(Math.max(0, untilNanos - System.nanoTime() - 500_000_000L)));
    }

    // --- on the reader thread

    @Override
    public void beat(long beatMillis) {
        drafts.add(new Draft("heartbeat", null, null, beatMillis));
    }

    @Override
    public void change(ClaimRow before, ClaimRow after) {
        if (before == null) {
            drafts.add(new Draft("insert", null, after, 0));
        } else if (after == null) {
            drafts.add(new Draft("delete", before, null, 0));
        } else if (before.activityId() == after.activityId() && before.userId() == after.userId()) {
            drafts.add(new Draft("update", before, after, 0));
        } else {
            // two keys, two partitions: each key's change goes in its own key's order
            drafts.add(new Draft("delete", before, null, 0));
            drafts.add(new Draft("insert", null, after, 0));
        }
    }

    @Override
    public void rowRead() {
        if (!resolving && (streaming || drafts.size() >= HOLD_AT)) {
            // counted under the transaction all the same: the checkpoint passes it only once all is acknowledged
            streaming = true;
            send(tracker.current(), lastEnd, false);
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
                    fail.accept(why.exitCode() != ExitCode.UNAVAILABLE
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
                fail.accept(clients.failure(e, KafkaClients.Use.PUBLISH, topic));
            }
        }
    }

    @Override
    public void commit(BinlogPosition end) {
        if (!drafts.isEmpty()) {
            send(tracker.current(), streaming ? lastEnd : end, !streaming);
        }
        streaming = false;
        lastEnd = end;
    }

    @Override
    public void prepared(BinlogPosition end) {
        lastEnd = end;
    }

    @Override
    public void resolving(TxTracker.Tx held) {
        resolving = true;
    }

    @Override
    public void resolvingEnds() {
        resolving = false;
    }

    @Override
    public void resolved(TxTracker.Tx tx, BinlogPosition end) {
        send(tx, end, true);
    }

    @Override
    public void abandon(BinlogPosition resumeFrom) {
        // what a streamed transaction sent already is sent again when it is read again: a no-op for the appliers
        drafts.clear();
        streaming = false;
        lastEnd = resumeFrom;
    }
}
