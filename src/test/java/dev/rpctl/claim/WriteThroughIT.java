package dev.rpctl.claim;

import dev.rpctl.app.App;
import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.config.HostPort;
import dev.rpctl.config.SideMode;
import dev.rpctl.config.SideSettings;
import dev.rpctl.protocol.ClaimRow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The claim's write-through when one side is down or hangs: the claim stands, the other side has it. */
class WriteThroughIT {
    App app;
    CacheSide a;
    final List<AutoCloseable> opened = new ArrayList<>();
    long activity;

    @BeforeAll
    static void schema() {
        assertEquals(0, Rpctl.withServices().run("db", "init").exitCode());
    }

    @BeforeEach
    void setUp() {
        app = Services.app();
        a = app.side("a");
        activity = Services.freshActivityId();
        app.activities().create(new ActivityService.NewActivity(activity, "write-through", 100, 10_000, Allocation.FIXED, null, null, 1));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        app.close();
    }

    ClaimService claims(CacheSide b, Duration timeout) {
        return claims(new WriteThrough(app.protocol(), List.of(a, b), 1, timeout));
    }

    ClaimService claims(WriteThrough wt) {
        ClaimService claims = new ClaimService(app.primary(), app.config().mapping(), app.activities(), app.protocol(), wt,
                Clock.systemUTC(), 2, 128);
        opened.add(wt);
        opened.add(claims);
        return claims;
    }

    CacheSide side(String name, int port, Duration socketTimeout) {
        CacheSide s = new CacheSide(new SideSettings(name, SideMode.SINGLE, List.of(HostPort.parse("127.0.0.1:" + port)),
                "", "", "", false, 0, socketTimeout, 4));
        opened.add(s);
        return s;
    }

    @Test
    void a_side_that_is_down_does_not_fail_the_claim() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        ClaimService claims = claims(side("b", closedPort, Duration.ofSeconds(2)), Duration.ofSeconds(5));
        ClaimService.Outcome o = claims.claim(activity, 1, "r1");
        assertEquals(ClaimService.Result.CLAIMED, o.result());
        assertEquals(List.of("b"), o.failedSides());
        assertEquals(rowEntry(o.row()), a.get(app.protocol().key(activity, 1)));
    }

    /** A server that takes connections and never answers: a hung Redis. */
    @Test
    @Timeout(20)
    void a_side_that_hangs_is_given_up_after_the_write_through_timeout() throws Exception {
        try (ServerSocket hole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> held = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(hole.accept());
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            // the socket timeout alone would keep the claim for minutes: only the write-through timeout answers it
            ClaimService claims = claims(side("b", hole.getLocalPort(), Duration.ofMinutes(5)), Duration.ofMillis(300));
            ClaimService.Outcome first = claims.claim(activity, 2, "r2");
            assertEquals(ClaimService.Result.CLAIMED, first.result());
            assertEquals(List.of("b"), first.failedSides());
            assertEquals(rowEntry(first.row()), a.get(app.protocol().key(activity, 2)));
            // side a keeps working while b hangs, and b is skipped for a while instead of timing out again
            ClaimService.Outcome second = claims.claim(activity, 3, "r3");
            assertEquals(List.of("b"), second.failedSides());
            assertEquals(rowEntry(second.row()), a.get(app.protocol().key(activity, 3)));
            synchronized (held) {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }

    /** The hung side comes first: its handshake must not use up the healthy side's time. */
    @Test
    @Timeout(20)
    void a_hung_side_listed_first_does_not_hold_back_the_other() throws Exception {
        try (ServerSocket hole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            CacheSide hung = side("h", hole.getLocalPort(), Duration.ofMinutes(5));
            WriteThrough wt = new WriteThrough(app.protocol(), List.of(hung, a), 1, Duration.ofMillis(300));
            ClaimService claims = claims(wt);
            for (long user = 20; user < 24; user++) {
                ClaimService.Outcome o = claims.claim(activity, user, "r" + user);
                assertEquals(ClaimService.Result.CLAIMED, o.result());
                assertEquals(List.of("h"), o.failedSides(), "user " + user);
                assertEquals(rowEntry(o.row()), a.get(app.protocol().key(activity, user)));
            }
            assertEquals(0, wt.failures("a"));
        }
    }

    @Test
    @Timeout(30)
    void closing_answers_the_batches_a_hung_side_still_holds() throws Exception {
        try (ServerSocket hole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            // connections wait in the backlog unaccepted: the writer blocks on side b's handshake
            CacheSide b = side("b", hole.getLocalPort(), Duration.ofMinutes(5));
            WriteThrough wt = new WriteThrough(app.protocol(), List.of(a, b), 0, Duration.ofMinutes(5));
            ClaimRow row = new ClaimRow(activity, 5, 100, "paid", "r5", 1, 1_764_300_000_000L);
            String key = app.protocol().key(activity, 5);
            java.util.concurrent.CompletableFuture<List<String>> f = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> wt.write(List.of(new dev.rpctl.protocol.CacheProtocol.Write(key, dev.rpctl.protocol.Entry.row(row)))));
            // side a is written first; then the writer waits for b, which never answers
            while (a.get(key) == null) {
                Thread.sleep(10);
            }
            wt.close();
            List<String> failed = f.join();
            assertTrue(failed.contains("b"), "failed sides " + failed);
            assertEquals(rowEntry(row), a.get(key));
        }
    }

    @Test
    @Timeout(20)
    void a_claim_after_close_is_refused_and_not_left_waiting() {
        ClaimService claims = claims(app.side("b"), Duration.ofSeconds(1));
        assertEquals(ClaimService.Result.CLAIMED, claims.claim(activity, 6, "r6").result());
        claims.close();
        assertThrows(dev.rpctl.errors.RpctlException.class, () -> claims.claim(activity, 7, "r7"));
    }

    String rowEntry(ClaimRow row) {
        return "R|1|" + row.amount() + "|paid|" + row.requestId() + "|" + row.updatedAtMillis();
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"single", "cluster"})
    void under_fail_an_undecodable_entry_is_left_and_the_claim_names_it(String kind) {
        CacheSide side = dev.rpctl.TestSides.of(kind);
        opened.add(side);
        String key = app.protocol().key(activity, 8);
        dev.rpctl.cache.RawRedis.call(side, j -> j.set(key, "garbage"));
        WriteThrough wt = new WriteThrough(app.protocol(), List.of(side), 1, Duration.ofSeconds(1),
                dev.rpctl.config.BadDataPolicy.FAIL);
        ClaimService.Outcome o = claims(wt).claim(activity, 8, "r8");
        assertEquals(ClaimService.Result.CLAIMED, o.result(), "committed all the same");
        assertTrue(o.badData() != null, o.toString());
        assertEquals(65, o.badData().exitCode().code());
        assertTrue(o.badData().getMessage().contains("side a: key " + key + " holds an undecodable cache entry \"garbage\""),
                o.badData().getMessage());
        assertEquals("garbage", side.get(key), "left for the operator");
        assertEquals(1, wt.undecodable("a"));
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"single", "cluster"})
    void under_warn_an_undecodable_entry_is_replaced_by_the_claimed_row(String kind) {
        CacheSide side = dev.rpctl.TestSides.of(kind);
        opened.add(side);
        String key = app.protocol().key(activity, 9);
        dev.rpctl.cache.RawRedis.call(side, j -> j.set(key, "garbage"));
        WriteThrough wt = new WriteThrough(app.protocol(), List.of(side), 1, Duration.ofSeconds(1),
                dev.rpctl.config.BadDataPolicy.WARN);
        ClaimService.Outcome o = claims(wt).claim(activity, 9, "r9");
        assertEquals(ClaimService.Result.CLAIMED, o.result());
        assertEquals(null, o.badData());
        assertEquals(dev.rpctl.protocol.Entry.row(o.row()).encode(), side.get(key));
        assertEquals(1, wt.undecodable("a"));
    }
}
