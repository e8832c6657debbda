package dev.rpctl.sync;

import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.config.SyncSettings;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The direct pipeline's sink: per-user ordered lanes writing one cache side, and the pinger that
 * tells when the side stops answering. A change goes to its user's lane at once, counted in the
 * transaction being read; a heartbeat goes through every lane.
 */
final class SideSink implements Pipeline.Sink {
    private static final Logger log = LoggerFactory.getLogger(SideSink.class);

    private final String name;
    private final CacheSide side;
    private final CacheProtocol protocol;
    private final SyncSettings settings;
    private final SyncMetrics metrics;
    private Consumer<RpctlException> fail;
    private final List<Lane> lanes = new ArrayList<>();
    private final List<Thread> laneThreads = new ArrayList<>();
    private TxTracker tracker;
    private CountDownLatch stopping;
    private Thread pinger;
    /** Where rows are counted instead of the transaction being read: a resolved XA prepare; reader thread only. */
    private TxTracker.Tx routing;

    SideSink(String name, CacheSide side, CacheProtocol protocol, SyncSettings settings, SyncMetrics metrics) {
        this.name = name;
        this.side = side;
        this.protocol = protocol;
        this.settings = settings;
        this.metrics = metrics;
    }

    @Override
    public void open(BinlogPosition from, TxTracker tracker, CountDownLatch stopping, Consumer<RpctlException> fail) {
        this.fail = fail;
        this.tracker = tracker;
        this.stopping = stopping;
        for (int i = 0; i < settings.lanes(); i++) {
            Lane lane = new Lane(name + "-" + i, settings.queueCapacity(), settings.batchSize(), side, protocol, metrics,
                    settings.onBadData(), e -> fail.accept(new RpctlException(e.exitCode(), "pipeline " + name + ": "
                    + e.getMessage(), e)));
            lanes.add(lane);
            laneThreads.add(Pipeline.thread("lane-" + name + "-" + i, lane));
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
        pinger = Pipeline.thread("ping-" + name, this::pingLoop);
    }

    @Override
    public void beat(long beatMillis) throws InterruptedException {
        Lane.Beat b = new Lane.Beat(beatMillis, lanes.size());
        for (Lane lane : lanes) {
            lane.put(new Lane.Item(null, null, -1, -1, tx(), b, -1));
        }
    }

    @Override
    public void change(ClaimRow before, ClaimRow after) throws InterruptedException {
        if (after == null) {
            putTombstone(before);
            return;
        }
        if (before != null && (before.activityId() != after.activityId() || before.userId() != after.userId())) {
            // the old key's row is gone: announce that, and fill the new key
            putTombstone(before);
        }
        putRow(after);
    }

    private void putRow(ClaimRow r) throws InterruptedException {
        lane(r.userId()).put(new Lane.Item(protocol.key(r.activityId(), r.userId()), Entry.row(r), r.activityId(), r.userId(),
                tx(), null, r.updatedAtMillis()));
    }

    private void putTombstone(ClaimRow r) throws InterruptedException {
        lane(r.userId()).put(new Lane.Item(protocol.key(r.activityId(), r.userId()), Entry.tombstone(r.version() + 1),
                r.activityId(), r.userId(), tx(), null, -1));
    }

    private TxTracker.Tx tx() {
        TxTracker.Tx t = routing != null ? routing : tracker.current();
        t.add();
        return t;
    }

    private Lane lane(long userId) {
        return lanes.get(Pipeline.laneOf(userId, lanes.size()));
    }

    @Override
    public void commit(BinlogPosition end) {
        // every change went to its lane as it was read
    }

    @Override
    public void resolving(TxTracker.Tx held) {
        routing = held;
    }

    @Override
    public void resolvingEnds() {
        routing = null;
    }

    @Override
    public void abort() {
        lanes.forEach(Lane::abort);
        laneThreads.forEach(Thread::interrupt);
        if (pinger != null) {
            pinger.interrupt();
        }
    }

    @Override
    public void awaitAborted(long untilNanos) {
        for (Thread t : laneThreads) {
            Pipeline.join(t, untilNanos);
        }
    }

    @Override
    public void drain(long untilNanos) {
        pinger.interrupt();
        lanes.forEach(Lane::drain);
        for (Thread t : laneThreads) {
            Pipeline.join(t, untilNanos - 500_000_000L);
        }
        for (int i = 0; i < lanes.size(); i++) {
            if (laneThreads.get(i).isAlive()) {
                // its side does not take the batch in time: it stays unapplied, the checkpoint behind it
                lanes.get(i).abort();
                laneThreads.get(i).interrupt();
            }
        }
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
}
