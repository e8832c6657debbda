package dev.rpctl.sync;

import dev.rpctl.cache.RawRedis;
import dev.rpctl.errors.RpctlException;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A lane that meets an undecodable cache entry follows sync.on-bad-data. */
class UndecodableEntriesIT {

    @Test
    void under_fail_the_daemon_stops_with_65_naming_the_side_and_key() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            SyncService daemon = f.service("all", true);
            daemon.start();
            f.onClose(daemon::shutdown);
            SyncFixture.awaitLeading(daemon);
            f.insertUsers(1, 3);
            f.awaitSide("a", f.expectedRows(), 30);
            String key = f.key(f.activity, 2);
            RawRedis.call(f.app().side("a"), j -> j.set(key, "garbage"));

            f.sql("UPDATE " + f.table + " SET amount = amount + 1 WHERE user_id = 2");
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread waiter = new Thread(() -> {
                try {
                    daemon.await();
                } catch (Throwable e) {
                    thrown.set(e);
                }
            });
            waiter.start();
            waiter.join(30_000);
            RpctlException e = assertInstanceOf(RpctlException.class, thrown.get(), "the daemon stopped");
            assertEquals(65, e.exitCode().code());
            assertTrue(e.getMessage().contains("side a: key " + key + " holds an undecodable cache entry \"garbage\"")
                    && e.getMessage().contains("rpctl inspect --key " + key + " --repair"), e.getMessage());
            assertEquals("garbage", f.app().side("a").get(key), "left for the operator");
        }
    }

    @Test
    void under_skip_the_entry_is_replaced_by_the_change_and_counted() throws Exception {
        try (SyncFixture f = new SyncFixture()) {
            f.env.put("RPCTL_SYNC_ON_BAD_DATA", "skip");
            SyncService daemon = f.service("all", true);
            daemon.start();
            f.onClose(daemon::shutdown);
            SyncFixture.awaitLeading(daemon);
            f.insertUsers(1, 3);
            f.awaitSide("b", f.expectedRows(), 30);
            String key = f.key(f.activity, 2);
            RawRedis.call(f.app().side("b"), j -> j.set(key, "garbage"));

            f.sql("UPDATE " + f.table + " SET amount = amount + 1 WHERE user_id = 2");
            Map<String, String> expected = f.expectedRows();
            f.awaitSide("b", expected, 30);
            f.awaitSide("a", expected, 30);
            SyncMetrics b = daemon.metrics().stream().filter(m -> m.side().equals("b")).findFirst().orElseThrow();
            assertEquals(1, b.undecodable());
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!daemon.healthy() && System.nanoTime() < until) {
                Thread.sleep(100);
            }
            assertTrue(daemon.healthy());
        }
    }
}
