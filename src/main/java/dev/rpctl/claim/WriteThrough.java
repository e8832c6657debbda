package dev.rpctl.claim;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.Entry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
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

    /** Writes to all sides in parallel; returns the sides that could not be written. */
    public List<String> write(String key, Entry entry) {
        if (sides.isEmpty()) {
            return List.of();
        }
        if (sides.size() == 1) {
            return writeOne(sides.get(0), key, entry) ? List.of() : List.of(sides.get(0).name());
        }
        @SuppressWarnings("unchecked")
        CompletableFuture<Boolean>[] fs = new CompletableFuture[sides.size()];
        // the first side is written by the calling thread, the others by the pool
        for (int i = 1; i < sides.size(); i++) {
            CacheSide s = sides.get(i);
            fs[i] = CompletableFuture.supplyAsync(() -> writeOne(s, key, entry), pool);
        }
        boolean first = writeOne(sides.get(0), key, entry);
        List<String> failed = first ? new java.util.ArrayList<>() : new java.util.ArrayList<>(List.of(sides.get(0).name()));
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int i = 1; i < sides.size(); i++) {
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                if (!fs[i].get(left, TimeUnit.NANOSECONDS)) {
                    failed.add(sides.get(i).name());
                }
            } catch (TimeoutException e) {
                failures.get(sides.get(i).name()).incrementAndGet();
                log.warn("write-through to side {} timed out after {} for {}; the binlog pipeline will apply it",
                        sides.get(i).name(), timeout, key);
                failed.add(sides.get(i).name());
            } catch (Exception e) {
                failed.add(sides.get(i).name());
            } 
        }
        return failed;
    }

    private boolean writeOne(CacheSide side, String key, Entry entry) {
        RuntimeException last = null;
        for (int attempt = 0; attempt <= retries; attempt++) {
            try {
                CacheProtocol.Outcome o = protocol.put(side, key, entry);
                if (o == CacheProtocol.Outcome.UNDECODABLE) {
                    log.warn("side {}: {} holds an undecodable value; left for 'rpctl inspect --repair'", side.name(), key);
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
        log.warn("write-through to side {} failed for {} after {} attempts: {}; the binlog pipeline will apply it",
                side.name(), key, retries + 1, last.getMessage());
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
