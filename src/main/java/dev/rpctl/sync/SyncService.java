package dev.rpctl.sync;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.binlog.BinlogSource;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.config.MappingSettings;
import dev.rpctl.config.SyncSettings;
import dev.rpctl.db.SchemaService;
import dev.rpctl.kafka.KafkaClients;
import dev.rpctl.kafka.MessageFormat;
import dev.rpctl.kafka.RpctlFormat;
import dev.rpctl.protocol.CacheProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The sync daemon: one pipeline per cache side, each on its own thread, binlog connection,
 * lanes, checkpoint and lock, so one side never holds the other back. A pipeline whose lock
 * another daemon holds stands by and takes over when that daemon goes away.
 * <p>
 * One leader at a time: a leader checks its lock every {@link #LOCK_CHECK} and every checkpoint
 * save is fenced by it; on the first failed check or refused save it stops writing at once (lanes
 * aborted, reader closed, nothing saved) and stands by again. A daemon that takes a lock waits
 * {@link #TAKEOVER} before it reads, so a leader whose session was killed while its process lives
 * has met its failed check by then. Each leadership reads the binlog as its own server id, derived
 * from its lock session's connection id, so two readers never share one.
 */
public final class SyncService {
    private static final Logger log = LoggerFactory.getLogger(SyncService.class);
    /** How long a pipeline's lanes get to write what they hold at shutdown. */
    private static final Duration DRAIN = Duration.ofSeconds(7);
    /**
     * From SIGTERM to {@link #await} returning, whatever the lanes do: below the systemd unit's
     * 15 s stop timeout. A pipeline not ended by then is left to the process's exit.
     */
    static final Duration STOP_BOUND = Duration.ofSeconds(10);
    /** How often a leader checks that its session still holds the pipeline's lock. */
    static final Duration LOCK_CHECK = Duration.ofMillis(250);
    /** How long a daemon holds a lock it took before it reads: several of a leader's lock checks. */
    static final Duration TAKEOVER = LOCK_CHECK.multipliedBy(4);
    /** MySQL server ids are unsigned 32-bit, and 0 is not one. */
    private static final long SERVER_IDS = 4_294_967_295L;

    /**
     * How to run: the sides' pipelines and their names, where to start, whether to stand by, and
     * the mode: binlog to the sides (direct), binlog to Kafka (publish; one pipeline, named
     * prefix + "kafka"), or Kafka to the sides (apply; one consumer group member per side, reading
     * messages in {@code format}).
     */
    public record Options(String pipelinePrefix, boolean fromNow, boolean noWait, Mode mode, MessageFormat format) {
        public Options(String pipelinePrefix, boolean fromNow, boolean noWait) {
            this(pipelinePrefix, fromNow, noWait, Mode.DIRECT, null);
        }
    }

    /** Where a daemon reads and where it writes. */
    public enum Mode {
        /** binlog -> cache sides */
        DIRECT,
        /** binlog -> Kafka topic */
        PUBLISH,
        /** Kafka topic -> cache sides */
        APPLY
    }

    /** The publisher's pipeline name, after the prefix. */
    public static final String PUBLISHER = "kafka";

    private final SyncRepository repo;
    private final CacheProtocol protocol;
    private final MappingSettings mapping;
    private final SyncSettings settings;
    private final Options options;
    private final KafkaClients kafka;
    private final List<Runner> runners = new ArrayList<>();
    private final CountDownLatch stopping = new CountDownLatch(1);
    private volatile RpctlException fatal;
    /** When stopping began (System.nanoTime), for {@link #STOP_BOUND}. */
    private volatile long stopRequestedNanos;
    private volatile boolean namesInEvents;
    private volatile Pipeline.RowHook rowHook;
    private volatile PipelineHook lockHook;
    private volatile PipelineHook checkpointHook;
    private volatile PipelineHook leadHook;
    private volatile KafkaApplier.RecordHook recordHook;
    private volatile KafkaPublisher.AckHook ackHook;

    /** Test hook: runs on a pipeline's thread at one point of its leadership, so a test can act or wait there. */
    interface PipelineHook {
        void at(String pipeline) throws InterruptedException;
    }

    public SyncService(SyncRepository repo, List<CacheSide> sides, CacheProtocol protocol, MappingSettings mapping,
                       SyncSettings settings, Options options) {
        this(repo, sides, protocol, mapping, settings, options, null);
    }

    /** @param kafka the Kafka clients of the publish and apply modes; null for a direct daemon */
    public SyncService(SyncRepository repo, List<CacheSide> sides, CacheProtocol protocol, MappingSettings mapping,
                       SyncSettings settings, Options options, KafkaClients kafka) {
        this.repo = repo;
        this.protocol = protocol;
        this.mapping = mapping;
        this.settings = settings;
        this.options = options;
        this.kafka = kafka;
        if (options.mode() == Mode.PUBLISH) {
            String name = options.pipelinePrefix() + PUBLISHER;
            runners.add(new Runner(name, null, metrics(name, PUBLISHER)));
            return;
        }
        for (CacheSide side : sides) {
            String name = options.mode() == Mode.APPLY ? kafka.settings().group(side.name())
                    : options.pipelinePrefix() + side.name();
            runners.add(new Runner(name, side, metrics(name, side.name())));
        }
    }

    public List<SyncMetrics> metrics() {
        return runners.stream().map(r -> r.metrics).toList();
    }

    /** Every pipeline is reading as leader or standing by. */
    public boolean healthy() {
        return problems().isEmpty();
    }

    /** Why the daemon is not healthy, one line each (see {@link SyncMetrics#problems}); empty when it is. */
    public List<String> problems() {
        if (stopping.getCount() == 0) {
            return List.of("stopping");
        }
        long now = System.currentTimeMillis();
        return runners.stream().flatMap(r -> r.metrics.problems(now).stream()).toList();
    }

    /** What ended the daemon, or null while nothing has. */
    RpctlException failure() {
        return fatal;
    }

    /** Test hook for the pipelines led from now on; see {@link Pipeline.RowHook}. */
    void beforeRow(Pipeline.RowHook hook) {
        this.rowHook = hook;
    }

    /** Test hook for the appliers started from now on; see {@link KafkaApplier.RecordHook}. */
    void beforeRecord(KafkaApplier.RecordHook hook) {
        this.recordHook = hook;
    }

    /** Test hook for the publishers led from now on; see {@link KafkaPublisher.AckHook}. */
    void onAcknowledged(KafkaPublisher.AckHook hook) {
        this.ackHook = hook;
    }

    /** Test hook: before each periodic checkpoint save of the pipelines led from now on. */
    void beforeCheckpoint(PipelineHook hook) {
        this.checkpointHook = hook;
    }

    /** Test hook: before each check of a leading pipeline's lock. */
    void beforeLockCheck(PipelineHook hook) {
        this.lockHook = hook;
    }

    /** Test hook: once a pipeline has taken its lock, before it reads its checkpoint. */
    void afterLockTaken(PipelineHook hook) {
        this.leadHook = hook;
    }

    /**
     * The binlog server id of a leadership: the base plus the server-id slot its lock session
     * holds ({@link PipelineLock#SLOTS}), within the unsigned 32-bit range. A slot is held by one
     * live session at a time, so two readers never share an id.
     */
    static long serverId(long base, int slot) {
        return (base - 1 + slot) % SERVER_IDS + 1;
    }

    private SyncMetrics metrics(String pipeline, String side) {
        SyncMetrics m = new SyncMetrics(pipeline, side, settings.heartbeatInterval().toMillis());
        m.unhealthyLag(settings.unhealthyLag().toMillis());
        return m;
    }

    public void start() {
        if (options.mode() == Mode.APPLY) {
            // Kafka is all an applier reads: it needs neither the binlog nor the schema. A foreign
            // stream's topic is its pipeline's to create: only asked for (a broker down or an ACL
            // refusing stops the start), and waited for by the applier when missing
            if (options.format() instanceof RpctlFormat) {
                kafka.ensureTopic(kafka.settings().topic());
            } else {
                kafka.describeTopic(kafka.settings().topic());
            }
        } else {
            namesInEvents = repo.requireUsableBinlog();
            // the heartbeat and checkpoint tables, and the triggers without which an outside writer can
            // make a version go back: an older schema is refused here, not by a loop that retries forever
            new SchemaService(repo.database(), mapping).requireSchema();
            if (options.mode() == Mode.PUBLISH) {
                kafka.ensureTopic(kafka.settings().topic());
            }
        }
        for (Runner r : runners) {
            r.thread = new Thread(r, "pipeline-" + r.name);
            r.thread.start();
        }
    }

    /**
     * Blocks until every pipeline has ended, or until {@link #STOP_BOUND} after stopping began;
     * throws what made the daemon stop, if anything did.
     */
    public void await() throws InterruptedException {
        for (Runner r : runners) {
            while (r.thread.isAlive()) {
                long began = stopRequestedNanos;
                if (began != 0 && System.nanoTime() - began > STOP_BOUND.toNanos()) {
                    log.warn("pipeline {}: not stopped {} s after the stop began; exiting without it", r.name,
                            STOP_BOUND.toSeconds());
                    break;
                }
                r.thread.join(100);
            }
        }
        if (fatal != null) {
            throw fatal;
        }
    }

    /**
     * Drains the lanes and saves the checkpoints; returns once done or after {@link #STOP_BOUND}.
     * A lane whose side does not take its batch in time leaves it unapplied, with the checkpoint
     * behind it: the next start applies it.
     */
    public void shutdown() {
        beginStop();
        for (Runner r : runners) {
            try {
                long left = STOP_BOUND.toNanos() - (System.nanoTime() - stopRequestedNanos);
                if (left > 0) {
                    r.thread.join(Math.max(1, left / 1_000_000));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private synchronized void beginStop() {
        if (stopRequestedNanos == 0) {
            stopRequestedNanos = System.nanoTime();
        }
        stopping.countDown();
        for (Runner r : runners) {
            KafkaApplier a = r.applier;
            if (a != null) {
                a.stop(!r.crash);
            }
        }
    }

    /** Stops every pipeline at once without draining or saving, as kill -9 would; for tests. */
    public void crash() {
        for (Runner r : runners) {
            r.crash = true;
            KafkaApplier a = r.applier;
            if (a != null) {
                a.stop(false);
            }
        }
        beginStop();
        for (Runner r : runners) {
            try {
                r.thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void fail(RpctlException e) {
        if (fatal == null) {
            fatal = e;
        }
        beginStop();
    }

    private final class Runner implements Runnable {
        final String name;
        final CacheSide side;
        final SyncMetrics metrics;
        Thread thread;
        volatile boolean crash;
        private boolean mysqlDown;
        volatile KafkaApplier applier;
        boolean fromNow = options.fromNow();

        Runner(String name, CacheSide side, SyncMetrics metrics) {
            this.name = name;
            this.side = side;
            this.metrics = metrics;
        }

        @Override
        public void run() {
            if (options.mode() == Mode.APPLY) {
                apply();
                return;
            }
            try (PipelineLock lock = new PipelineLock(repo, name)) {
                boolean announced = false;
                while (stopping.getCount() > 0) {
                    if (!acquire(lock)) {
                        if (options.noWait()) {
                            throw RpctlException.temporary("pipeline " + name + " is already run by " + lock.holder()
                                    + "; not waiting (--no-wait)");
                        }
                        if (!announced) {
                            log.info("pipeline {}: {} holds it; standing by to take over", name, lock.holder());
                            announced = true;
                        }
                        metrics.waiting(true);
                        stopping.await(1, TimeUnit.SECONDS);
                        continue;
                    }
                    announced = false;
                    // a leader whose session was killed while it lives stops at its next lock check: let it
                    if (stopping.await(TAKEOVER.toMillis(), TimeUnit.MILLISECONDS) || !lock.held()) {
                        continue;
                    }
                    metrics.waiting(false);
                    metrics.leader(true);
                    try {
                        lead(lock);
                    } catch (RpctlException e) {
                        if (e.exitCode() != ExitCode.UNAVAILABLE) {
                            throw e;
                        }
                        // MySQL went away between taking the lock and reading from the checkpoint:
                        // the same wait as for the lock, not an exit
                        mysqlGone(e);
                        lock.close();
                        stopping.await(1, TimeUnit.SECONDS);
                    } finally {
                        metrics.leader(false);
                        metrics.connected(false);
                    }
                }
            } catch (RpctlException e) {
                fail(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                fail(new RpctlException(ExitCode.SOFTWARE, "pipeline " + name + ": " + RpctlException.rootMessage(e), e));
            } finally {
                metrics.waiting(false);
            }
        }

        /** Kafka mode: one member of the side's consumer group until the daemon stops. */
        private void apply() {
            try {
                KafkaApplier a = new KafkaApplier(name, side, protocol, settings, kafka, options.format(), metrics,
                        recordHook);
                applier = a;
                if (stopping.getCount() == 0) {
                    a.stop(!crash);
                }
                a.run();
            } catch (RpctlException e) {
                fail(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                fail(new RpctlException(ExitCode.SOFTWARE, "applier " + name + ": " + RpctlException.rootMessage(e), e));
            }
        }

        private boolean acquire(PipelineLock lock) {
            try {
                boolean taken = lock.tryAcquire();
                mysqlAnswers();
                return taken;
            } catch (RpctlException e) {
                if (e.exitCode() != ExitCode.UNAVAILABLE) {
                    throw e;
                }
                mysqlGone(e);
                return false;
            }
        }

        /**
         * MySQL did not answer: counted every time, logged once until it answers again (a daemon
         * waits for it as long as it runs: systemd would only start it again into the same wait).
         */
        private void mysqlGone(RpctlException e) {
            metrics.errors.incrementAndGet();
            if (!mysqlDown) {
                mysqlDown = true;
                log.warn("pipeline {}: {}; trying again every second until it answers", name, e.getMessage());
            }
        }

        private void mysqlAnswers() {
            if (mysqlDown) {
                mysqlDown = false;
                log.info("pipeline {}: MySQL answers again", name);
            }
        }

        private void lead(PipelineLock lock) throws InterruptedException {
            PipelineHook taken = leadHook;
            if (taken != null) {
                taken.at(name);
            }
            BinlogPosition from = startPosition(lock);
            if (from == null) {
                log.warn("pipeline {}: lost its lock before it began (its session to MySQL is gone); standing by", name);
                return;
            }
            long serverId = serverId(settings.serverIdBase(), lock.slot());
            Pipeline p;
            if (side == null) {
                log.info("pipeline {}: leading as {}; to topic {} at {}, from {}", name, PipelineLock.PROCESS,
                        kafka.settings().topic(), kafka.settings().bootstrap(), from);
                p = new Pipeline(name, serverId, mapping, settings, repo, lock, metrics, namesInEvents, rowHook, null,
                        new KafkaPublisher(name, mapping.claimTable().toLowerCase(Locale.ROOT), metrics, kafka, ackHook));
            } else {
                log.info("pipeline {}: leading as {}; side {} at {}, from {}", name, PipelineLock.PROCESS, side.name(),
                        side.address(), from);
                p = new Pipeline(name, serverId, mapping, settings, repo, lock, metrics, namesInEvents, rowHook, protocol,
                        new SideSink(name, side, protocol, settings, metrics));
            }
            p.beforeCheckpoint(checkpointHook);
            p.start(from);
            try {
                while (stopping.getCount() > 0) {
                    if (p.awaitEnd(LOCK_CHECK.toMillis())) {
                        if (p.lostLock()) {
                            log.warn("pipeline {}: its session no longer holds the lock; stopped writing, standing by", name);
                            return;
                        }
                        Throwable f = p.failure();
                        if (f instanceof RpctlException re) {
                            throw re;
                        }
                        if (f != null) {
                            throw new RpctlException(ExitCode.SOFTWARE, "pipeline " + name + ": " + RpctlException.rootMessage(f), f);
                        }
                        return;
                    }
                    PipelineHook hook = lockHook;
                    if (hook != null) {
                        hook.at(name);
                    }
                    if (!lock.held()) {
                        // before anything else: not one more cache write or checkpoint from this leadership
                        p.stopForLostLock();
                        log.warn("pipeline {}: lost its lock (its session to MySQL is gone); stopped writing, standing by", name);
                        return;
                    }
                }
            } finally {
                p.stop(!crash, DRAIN);
            }
        }

        /** Where to read from; null when the lock was lost before the start could be saved. */
        private BinlogPosition startPosition(PipelineLock lock) {
            Optional<BinlogPosition> saved = repo.load(name);
            if (fromNow || saved.isEmpty()) {
                BinlogPosition now = repo.serverNow();
                if (!lock.save(now, 0, -1)) {
                    return null;
                }
                fromNow = false;
                return now;
            }
            BinlogPosition p = saved.get();
            boolean present = repo.binaryLogs().stream().anyMatch(b -> b.name().equals(p.file()));
            if (!present) {
                throw BinlogSource.purged(p, "SHOW BINARY LOGS has no " + p.file());
            }
            return p;
        }
    }
}
