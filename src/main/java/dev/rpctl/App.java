package dev.rpctl;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.claim.ActivityService;
import dev.rpctl.claim.ClaimRepository;
import dev.rpctl.claim.ClaimService;
import dev.rpctl.claim.WriteThrough;
import dev.rpctl.config.Config;
import dev.rpctl.db.Database;
import dev.rpctl.protocol.CacheProtocol;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The wiring of one process: configuration, and the connections and services built from it on
 * first use, so a command opens only what it needs. Closing it closes what was opened.
 */
public final class App implements AutoCloseable {
    private final Config config;
    private final List<AutoCloseable> opened = new ArrayList<>();
    private Database primary;
    private Optional<Database> replica;
    private Map<String, CacheSide> sides;
    private CacheProtocol protocol;
    private WriteThrough writeThrough;
    private ClaimService claimService;

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
                sides.put(name, track(new CacheSide(config.side(name))));
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
        return new ActivityService(primary(), config.mapping());
    }

    public ClaimRepository claims() {
        return new ClaimRepository(primary(), config.mapping());
    }

    public synchronized WriteThrough writeThrough() {
        if (writeThrough == null) {
            writeThrough = track(new WriteThrough(protocol(), List.copyOf(sides().values()),
                    config.claim().writeThroughRetries(), config.claim().writeThroughTimeout()));
        }
        return writeThrough;
    }

    public synchronized ClaimService claimService() {
        if (claimService == null) {
            claimService = track(new ClaimService(primary(), config.mapping(), activities(), protocol(),
                    writeThrough(), Clock.systemUTC(), config.claim().committers()));
        }
        return claimService;
    }

    private <T extends AutoCloseable> T track(T t) {
        opened.add(t);
        return t;
    }

    /** Opens lazily-built things of other packages and closes them with the app. */
    public synchronized <T extends AutoCloseable> T open(Supplier<T> s) {
        return track(s.get());
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
