package dev.rpctl.claim;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.protocol.CacheProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes a committed row to every side at once, with bounded retries. A side that fails does not
 * fail the claim: it is logged and counted, and the binlog pipeline applies the same change later.
 */
public final class WriteThrough implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WriteThrough.class);

    private final CacheProtocol protocol;
    private final List<CacheSide> sides;
    private final int retries;
    private final Duration timeout;
    private final ExecutorService pool;
    private final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();

    public WriteThrough(CacheProtocol protocol, List<CacheSide> sides, int retries, Duration timeout) {
        this.protocol = protocol;
        this.sides = sides;
        this.retries = retries;
        this.timeout = timeout;
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "write-through");
            t.setDaemon(true);
            return t;
        });
        for (CacheSide s : sides) {
            failures.put(s.name(), new AtomicLong());
        }
    }

    /**
     * Writes the rows to all sides in parallel, one pipeline per side; returns the sides that
     * could not be written.
     */
    public List<String> write(List<CacheProtocol.Write> writes) {
        if (sides.isEmpty() || writes.isEmpty()) {
            return List.of();
        }
        @SuppressWarnings("unchecked")
        CompletableFuture<Boolean>[] fs = new CompletableFuture[sides.size()];
        // the first side is written by the calling thread, the others by the pool
        for (int i = 1; i < sides.size(); i++) {
            CacheSide s = sides.get(i);
            fs[i] = CompletableFuture.supplyAsync(() -> writeOne(s, writes), pool);
        }
        List<String> failed = new ArrayList<>();
        if (!writeOne(sides.get(0), writes)) {
            failed.add(sides.get(0).name());
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int i = 1; i < sides.size(); i++) {
            String name = sides.get(i).name();
            try {
                if (!fs[i].get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    failed.add(name);
                }
            } catch (TimeoutException e) {
                failures.get(name).incrementAndGet();
                log.warn("write-through of {} entries to side {} timed out after {}; the binlog pipeline will apply them",
                        writes.size(), name, timeout);
                failed.add(name);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failed.add(name);
            } catch (ExecutionException e) {
                failed.add(name);
            }
        }
        return failed;
    }

    private boolean writeOne(CacheSide side, List<CacheProtocol.Write> writes) {
        RuntimeException last = null;
        for (int attempt = 0; attempt <= retries; attempt++) {
            try {
                List<CacheProtocol.Outcome> outcomes = writes.size() == 1
                        ? List.of(protocol.put(side, writes.get(0).key(), writes.get(0).entry()))
                        : protocol.putAll(side, writes);
                for (int i = 0; i < outcomes.size(); i++) {
                    if (outcomes.get(i) == CacheProtocol.Outcome.UNDECODABLE) {
                        log.warn("side {}: {} holds an undecodable value; left for 'rpctl inspect --repair'",
                                side.name(), writes.get(i).key());
                    }
                }
                return true;
            } catch (RuntimeException e) {
                last = e;
                if (attempt < retries) {
                    sleep(10L << attempt);
                }
            }
        }
        failures.get(side.name()).incrementAndGet();
        log.warn("write-through of {} entries to side {} failed after {} attempts: {}; the binlog pipeline will apply them",
                writes.size(), side.name(), retries + 1, last.getMessage());
        return false;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public long failures(String side) {
        AtomicLong a = failures.get(side);
        return a == null ? 0 : a.get();
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
