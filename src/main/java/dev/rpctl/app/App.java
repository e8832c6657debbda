package dev.rpctl.app;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.RedisFailures;
import dev.rpctl.claim.ActivityService;
import dev.rpctl.claim.ClaimReader;
import dev.rpctl.claim.ClaimRepository;
import dev.rpctl.claim.ClaimService;
import dev.rpctl.claim.LoadService;
import dev.rpctl.claim.VerifyService;
import dev.rpctl.claim.WriteThrough;
import dev.rpctl.config.Config;
import dev.rpctl.config.Keys;
import dev.rpctl.config.SideSettings;
import dev.rpctl.config.TlsVerify;
import dev.rpctl.db.Database;
import dev.rpctl.db.ReplicaLagProbe;
import dev.rpctl.db.SchemaService;
import dev.rpctl.inspect.EntryJudge;
import dev.rpctl.inspect.InspectService;
import dev.rpctl.inspect.KeySurvey;
import dev.rpctl.reconcile.ReconcileRepository;
import dev.rpctl.reconcile.ReconcileService;
import dev.rpctl.warm.WarmService;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.kafka.CanalFormat;
import dev.rpctl.kafka.DebeziumFormat;
import dev.rpctl.kafka.KafkaClients;
import dev.rpctl.kafka.MaxwellFormat;
import dev.rpctl.kafka.MessageFormat;
import dev.rpctl.kafka.RpctlFormat;
import dev.rpctl.sync.MetricsServer;
import dev.rpctl.sync.StatusService;
import dev.rpctl.sync.SyncRepository;
import dev.rpctl.sync.SyncService;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The wiring of one process: configuration, and the connections and services built from it on
 * first use, so a command opens only what it needs. Closing it closes what was opened. Commands
 * get every service here; they never build one from repositories, sides or servers themselves.
 */
public final class App implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(App.class);
    private final Config config;
    private final List<AutoCloseable> opened = new ArrayList<>();
    private Database primary;
    private Optional<Database> replica;
    private Map<String, CacheSide> sides;
    private CacheProtocol protocol;
    private WriteThrough writeThrough;
    private ClaimService claimService;
    private final Map<String, ClaimReader> readers = new java.util.HashMap<>();

    public App(Config config) {
        this.config = config;
    }

    public Config config() {
        return config;
    }

    public synchronized Database primary() {
        if (primary == null) {
            primary = track(new Database(config.mysql(), "mysql primary"));
        }
        return primary;
    }

    public synchronized Optional<Database> replica() {
        if (replica == null) {
            replica = config.replica().map(r -> track(new Database(r, "mysql replica")));
        }
        return replica;
    }

    public synchronized Map<String, CacheSide> sides() {
        if (sides == null) {
            sides = new LinkedHashMap<>();
            for (String name : config.sideNames()) {
                SideSettings s = config.side(name);
                LOG.info("redis side {}: {} at {} (pool of up to {} a node, timeout {} ms{})", name,
                        s.mode().name().toLowerCase(java.util.Locale.ROOT),
                        String.join(",", s.nodes().stream().map(Object::toString).toList()), s.poolSize(), s.timeout().toMillis(),
                        s.tls().on() ? ", " + s.tls().describe() : "");
                if (s.tls().on() && s.tls().verify() == TlsVerify.NONE) {
                    LOG.warn("redis side {}: side-{}.tls-verify is none: the link is encrypted but the servers'"
                            + " certificates are not checked, so anyone in the middle is accepted", name, name);
                }
                sides.put(name, track(new CacheSide(s)));
            }
        }
        return sides;
    }

    public CacheSide side(String name) {
        CacheSide s = sides().get(name);
        if (s == null) {
            throw RpctlException.usage("no cache side '" + name + "'; sides are " + String.join(", ", sides().keySet()));
        }
        return s;
    }

    /** The sides named by a --side value: a, b or all. */
    public List<CacheSide> sides(String which) {
        if (which == null || which.equals("all")) {
            return List.copyOf(sides().values());
        }
        return List.of(side(which));
    }

    public synchronized CacheProtocol protocol() {
        if (protocol == null) {
            protocol = new CacheProtocol(config.mapping());
        }
        return protocol;
    }

    public ActivityService activities() {
        return new ActivityService(primary(), config.mapping(), config.claim().budgetShards());
    }

    public ClaimRepository claims() {
        return new ClaimRepository(primary(), config.mapping());
    }

    public synchronized WriteThrough writeThrough() {
        if (writeThrough == null) {
            writeThrough = writeThrough(List.copyOf(sides().values()));
        }
        return writeThrough;
    }

    /** A write-through of its own to the given sides (none: nothing is written through); closed with the app. */
    public synchronized WriteThrough writeThrough(List<CacheSide> to) {
        return track(new WriteThrough(protocol(), to, config.claim().writeThroughRetries(),
                config.claim().writeThroughTimeout(), config.sync().onBadData()));
    }

    public synchronized ClaimService claimService() {
        if (claimService == null) {
            claimService = claimService(writeThrough());
        }
        return claimService;
    }

    /** A claim service of its own around the given write-through, for a benchmark or test that picks the sides; closed with the app. */
    public synchronized ClaimService claimService(WriteThrough through) {
        return track(new ClaimService(primary(), config.mapping(), activities(), protocol(), through, Clock.systemUTC(),
                config.claim().committers(), config.claim().maxGroup()));
    }

    /**
     * The reader of the named side, through the lease-and-fill protocol: one a side and process, so
     * its misses share primary reads and its fallback bound holds for the process.
     */
    public synchronized ClaimReader claimReader(String side) {
        CacheSide s = side(side);
        return readers.computeIfAbsent(s.name(), n -> new ClaimReader(protocol(), s, claims(),
                config.claim().readFallbackConcurrency(), config.sync().onBadData()));
    }

    public VerifyService verifyService() {
        return new VerifyService(primary(), config.mapping(), activities(), claims(), protocol(),
                List.copyOf(sides().values()));
    }

    public LoadService loadService() {
        return new LoadService(activities(), this::claimService, this::claimReader, this::verifyService, primary());
    }

    public SchemaService schemaService() {
        return new SchemaService(primary(), config.mapping());
    }

    public InspectService inspectService() {
        ClaimRepository replicaClaims = replica().map(r -> new ClaimRepository(r, config.mapping())).orElse(null);
        return new InspectService(protocol(), List.copyOf(sides().values()), claims(), replicaClaims,
                () -> ReplicaLagProbe.describe(replica().orElseThrow()), config.mapping().leaseTtl());
    }

    /** Surveys of an activity's keys and decoding of any key, on every side. */
    public KeySurvey keySurvey() {
        return new KeySurvey(config.mapping().keyTemplate(), List.copyOf(sides().values()), claims());
    }

    /** A reconcile of the sides named by a --side value; the scan reads the replica where there is one. */
    public ReconcileService reconcileService(String side) {
        ReconcileRepository primaryRows = new ReconcileRepository(primary(), config.mapping());
        ReconcileRepository scanRows = replica().map(r -> new ReconcileRepository(r, config.mapping())).orElse(primaryRows);
        return new ReconcileService(primaryRows, scanRows, protocol(), sides(side), new EntryJudge(config.mapping().leaseTtl()));
    }

    /** A warm of the sides named by a --side value. */
    public WarmService warmService(String side) {
        return new WarmService(new ClaimRepository(primary(), config.mapping(), config.warmTopQuery()), protocol(), sides(side),
                config.bloomFalsePositiveRate(), config.bloomTtl());
    }

    /** The pipelines' state as MySQL holds it; a checkpoint older than staleAfter is stale. */
    public StatusService statusService(Duration staleAfter) {
        return new StatusService(new SyncRepository(primary(), config.mapping()), schemaService(), staleAfter,
                config.sync().checkpointInterval(), List.copyOf(sides().values()), new KafkaClients(config.kafka()));
    }

    /**
     * The sync daemon for the sides named by a --side value (a, b or all), with its /metrics and
     * /health server on metrics.address already serving; the server closes with the app.
     */
    public synchronized SyncService syncService(String side, SyncService.Options options) {
        KafkaClients kafka = options.mode() == SyncService.Mode.DIRECT ? null : new KafkaClients(config.kafka());
        List<CacheSide> to = options.mode() == SyncService.Mode.PUBLISH ? List.of() : sides(side);
        SyncService service = new SyncService(new SyncRepository(primary(), config.mapping()), to, protocol(),
                config.mapping(), config.sync(), options, kafka);
        track(new MetricsServer(config.metricsAddress(), config.setBy(Keys.METRICS_ADDRESS), service::metrics, service::problems));
        return service;
    }

    /** The reader of a change stream's messages, by --format: rpctl (the publisher's own), debezium, maxwell or canal. */
    public MessageFormat messageFormat(String name) {
        String table = config.mapping().claimTable();
        String version = config.mapping().versionColumn();
        return switch (name) {
            case "rpctl" -> new RpctlFormat(table);
            case "debezium" -> new DebeziumFormat(table, version);
            case "maxwell" -> new MaxwellFormat(table, version);
            case "canal" -> new CanalFormat(table, version);
            default -> throw RpctlException.usage("unknown --format " + name + "; expected rpctl, debezium, maxwell or canal");
        };
    }

    /**
     * The typed failure for an exception that got past the adapter meant to translate it: a lost
     * Redis connection is exit 69, a login a Redis refuses is exit 78. Anything else comes back unchanged.
     */
    public static Exception failure(Exception e) {
        return RedisFailures.translate(e);
    }

    /**
     * As {@link #failure(Exception)}, naming the side: a refused Redis login is reported by a
     * driver that does not say which server refused it, so each open side is asked once more.
     */
    public synchronized Exception explain(Exception e) {
        if (RedisFailures.loginRefused(e) && sides != null) {
            for (CacheSide s : sides.values()) {
                try {
                    s.ping();
                } catch (RuntimeException probe) {
                    if (RedisFailures.loginRefused(probe)) {
                        String key = "side-" + s.name();
                        return new RpctlException(ExitCode.CONFIG, "redis side " + s.name() + " at " + s.address()
                                + ": login refused (" + RpctlException.rootMessage(probe) + "); check " + key
                                + ".user and " + key + ".password", e);
                    }
                }
            }
        }
        return failure(e);
    }

    private <T extends AutoCloseable> T track(T t) {
        opened.add(t);
        return t;
    }

    @Override
    public synchronized void close() {
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception ignored) {
                // closing is best effort at exit
            }
        }
        opened.clear();
    }
}
