package dev.rpctl.protocol;

import dev.rpctl.Services;
import dev.rpctl.TestSides;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.DirectLink;
import dev.rpctl.cache.DirectLinks;
import dev.rpctl.cache.RawRedis;
import dev.rpctl.config.HostPort;
import dev.rpctl.config.SideMode;
import dev.rpctl.config.SideSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import redis.clients.jedis.Jedis;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compare-and-set rules, on a single Redis and on the cluster. */
class ProtocolIT {
    final CacheProtocol protocol = new CacheProtocol(Services.config().mapping());
    final List<CacheSide> opened = new ArrayList<>();
    final long activity = Services.freshActivityId();

    CacheSide side(String kind) {
        CacheSide s = TestSides.of(kind);
        opened.add(s);
        return s;
    }

    @AfterEach
    void close() {
        opened.forEach(CacheSide::close);
    }

    static ClaimRow row(long activity, long user, long version, long amount) {
        return new ClaimRow(activity, user, amount, "paid", "r" + version, version, 1000 + version);
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void an_older_or_equal_version_never_replaces_a_newer_one(String kind) {
        CacheSide s = side(kind);
        String key = protocol.key(activity, 1);
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.row(row(activity, 1, 2, 20))));
        assertEquals(CasOutcome.KEPT, protocol.put(s, key, Entry.row(row(activity, 1, 1, 10))));
        assertEquals(CasOutcome.KEPT, protocol.put(s, key, Entry.row(row(activity, 1, 2, 20))));
        assertEquals("R|2|20|paid|r2|1002", s.get(key));
        assertTrue(s.pttl(key) > 0, "entries carry a TTL");
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void a_tombstone_beats_older_rows_and_loses_to_the_row_it_announced(String kind) {
        CacheSide s = side(kind);
        String key = protocol.key(activity, 2);
        protocol.put(s, key, Entry.row(row(activity, 2, 1, 10)));
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.tombstone(2)));
        // a late fill of the old row cannot resurrect it
        assertEquals(CasOutcome.KEPT, protocol.put(s, key, Entry.row(row(activity, 2, 1, 10))));
        assertEquals("T|2", s.get(key));
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.row(row(activity, 2, 2, 30))));
        assertEquals("R|2|30|paid|r2|1002", s.get(key));
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void versions_past_two_to_the_53_compare_exactly_up_to_the_top_of_the_range(String kind) {
        CacheSide s = side(kind);
        String key = protocol.key(activity, 20);
        long big = 1L << 54;
        // as doubles 2^54 and 2^54+1 are equal, and so are their ranks
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.row(row(activity, 20, big, 1))));
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.row(row(activity, 20, big + 1, 2))));
        assertEquals(big + 1, Entry.decode(s.get(key)).version());
        assertEquals(CasOutcome.KEPT, protocol.put(s, key, Entry.row(row(activity, 20, big, 1))));
        // the tombstone of that row wins, and the row it announced beats it
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.tombstone(big + 2)));
        assertEquals(CasOutcome.KEPT, protocol.put(s, key, Entry.row(row(activity, 20, big + 1, 2))));
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.row(row(activity, 20, big + 2, 3))));
        long max = Entry.MAX_VERSION;
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.row(row(activity, 20, max - 1, 4))));
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.row(row(activity, 20, max, 5))));
        assertEquals(CasOutcome.KEPT, protocol.put(s, key, Entry.row(row(activity, 20, max - 1, 4))));
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.tombstone(max + 1)));
        assertEquals("T|" + (max + 1), s.get(key));
        // a shorter number is smaller whatever its digits
        String other = protocol.key(activity, 21);
        protocol.put(s, other, Entry.row(row(activity, 21, 10, 1)));
        assertEquals(CasOutcome.KEPT, protocol.put(s, other, Entry.row(row(activity, 21, 9, 1))));
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, other, Entry.row(row(activity, 21, 11, 1))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void an_entry_with_escaped_fields_is_ordered_and_read_back_like_any_other(String kind) {
        CacheSide s = side(kind);
        String key = protocol.key(activity, 22);
        ClaimRow odd = new ClaimRow(activity, 22, 5, "refunded|dba", "a%b|c", 4, 1000);
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.row(odd)));
        assertTrue(Entry.decode(s.get(key)).sameRow(odd));
        assertEquals(CasOutcome.KEPT, protocol.put(s, key, Entry.row(row(activity, 22, 3, 1))));
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.tombstone(5)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void a_placeholder_then_an_insert_ends_with_the_row(String kind) {
        CacheSide s = side(kind);
        String key = protocol.key(activity, 3);
        assertNull(protocol.readOrLease(s, key, "t1"));
        assertTrue(protocol.fill(s, key, "t1", Entry.placeholder()));
        assertEquals("P|0", s.get(key));
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.row(row(activity, 3, 1, 10))));
        assertEquals(1, Entry.decode(s.get(key)).version());
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void a_pipelined_batch_applies_each_write_by_its_version(String kind) {
        CacheSide s = side(kind);
        List<CacheProtocol.Write> writes = new ArrayList<>();
        for (long u = 10; u < 60; u++) {
            writes.add(new CacheProtocol.Write(protocol.key(activity, u), Entry.row(row(activity, u, 2, u))));
            writes.add(new CacheProtocol.Write(protocol.key(activity, u), Entry.row(row(activity, u, 1, u))));
        }
        // one undecodable key in the middle of a script call (64 keys a call on a single Redis)
        String broken = protocol.key(activity, 33);
        RawRedis.call(s, j -> j.set(broken, "garbage"));
        List<CasOutcome> out = protocol.putAll(s, writes);
        assertEquals(writes.size(), out.size());
        for (int i = 0; i < out.size(); i += 2) {
            boolean isBroken = writes.get(i).key().equals(broken);
            assertEquals(isBroken ? CasOutcome.UNDECODABLE : CasOutcome.WRITTEN, out.get(i));
            assertEquals(isBroken ? CasOutcome.UNDECODABLE : CasOutcome.KEPT, out.get(i + 1));
        }
        for (long u = 10; u < 60; u++) {
            String raw = s.get(protocol.key(activity, u));
            if (u == 33) {
                assertEquals("garbage", raw);
            } else {
                assertEquals(2, Entry.decode(raw).version());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void an_undecodable_value_is_left_for_repair_and_reported(String kind) {
        CacheSide s = side(kind);
        String key = protocol.key(activity, 4);
        RawRedis.call(s, j -> j.set(key, "garbage"));
        assertEquals(CasOutcome.UNDECODABLE, protocol.put(s, key, Entry.row(row(activity, 4, 1, 1))));
        assertEquals("garbage", s.get(key));
        assertTrue(protocol.swap(s, key, "garbage", Entry.row(row(activity, 4, 1, 1))));
        assertFalse(protocol.swap(s, key, "garbage", Entry.placeholder()), "a swap compares the exact value");
        assertEquals(1, Entry.decode(s.get(key)).version());
    }

    @Test
    void scripts_are_loaded_again_after_the_cluster_forgets_them() {
        CacheSide s = side("cluster");
        String key = protocol.key(activity, 5);
        protocol.put(s, key, Entry.row(row(activity, 5, 1, 1)));
        for (String n : Services.clusterNodes().split(",")) {
            try (Jedis j = new Jedis(HostPort.parse(n).host(), HostPort.parse(n).port())) {
                j.scriptFlush();
            }
        }
        assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.row(row(activity, 5, 2, 2))));
        List<CasOutcome> out = protocol.putAll(s, List.of(
                new CacheProtocol.Write(protocol.key(activity, 6), Entry.row(row(activity, 6, 1, 1)))));
        assertEquals(List.of(CasOutcome.WRITTEN), out);
    }

    /** The claim path's writes: put on the wire first, read later; a server without the script gets it. */
    @Test
    void writes_sent_on_a_link_are_read_back_in_order_and_reload_a_forgotten_script() {
        CacheSide s = side("single");
        List<CacheProtocol.Write> writes = new ArrayList<>();
        // more keys than one script call takes: two calls, both answered NOSCRIPT below
        for (long u = 100; u < 100 + CacheProtocol.CAS_GROUP + 6; u++) {
            writes.add(new CacheProtocol.Write(protocol.key(activity, u), Entry.row(row(activity, u, 2, u))));
        }
        String older = protocol.key(activity, 101);
        RawRedis.call(s, j -> j.set(older, Entry.row(row(activity, 101, 3, 7)).encode()));
        HostPort node = HostPort.parse(Services.env().get("RPCTL_SIDE_A_NODES").split(",")[0]);
        try (Jedis j = new Jedis(node.host(), node.port())) {
            j.scriptFlush();
        }
        try (DirectLinks links = new DirectLinks(s)) {
            DirectLink link = links.connect(Duration.ofSeconds(2));
            CacheProtocol.Sent sent = protocol.send(s, link, writes);
            List<CasOutcome> out = protocol.receive(link, sent, 2000);
            assertEquals(writes.size(), out.size());
            for (int i = 0; i < out.size(); i++) {
                boolean newer = writes.get(i).key().equals(older);
                assertEquals(newer ? CasOutcome.KEPT : CasOutcome.WRITTEN, out.get(i), writes.get(i).key());
            }
        }
        assertEquals(2, Entry.decode(s.get(protocol.key(activity, 100 + CacheProtocol.CAS_GROUP + 5))).version());
        assertEquals(3, Entry.decode(s.get(older)).version(), "a newer entry is kept");
    }

    @Test
    void scripts_are_loaded_again_after_a_redis_restart() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0)) {
            port = ss.getLocalPort();
        }
        Path dir = Files.createTempDirectory("rpctl-redis");
        Process first = startRedis(port, dir);
        CacheSide s = new CacheSide(new SideSettings("r", SideMode.SINGLE, List.of(new HostPort("127.0.0.1", port)),
                "", "", "", false, 0, Duration.ofSeconds(2), 4));
        opened.add(s);
        try {
            String key = protocol.key(activity, 7);
            assertEquals(CasOutcome.WRITTEN, protocol.put(s, key, Entry.row(row(activity, 7, 1, 1))));
            try (Jedis j = new Jedis("127.0.0.1", port)) {
                j.shutdown();
            } catch (Exception expected) {
                // the connection drops as the server exits
            }
            first.waitFor();
            Process second = startRedis(port, dir);
            try {
                // the restarted server has no scripts and no data: EVALSHA answers NOSCRIPT, the protocol reloads
                CasOutcome o = null;
                for (int i = 0; i < 50 && o == null; i++) {
                    try {
                        o = protocol.put(s, key, Entry.row(row(activity, 7, 2, 2)));
                    } catch (RuntimeException stalePooledConnection) {
                        Thread.sleep(100);
                    }
                }
                assertEquals(CasOutcome.WRITTEN, o);
                assertEquals(2, Entry.decode(s.get(key)).version());
            } finally {
                second.destroy();
                second.waitFor();
            }
        } finally {
            first.destroy();
        }
    }

    static Process startRedis(int port, Path dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString())
                .redirectOutput(dir.resolve("redis.log").toFile()).redirectErrorStream(true).start();
        for (int i = 0; i < 100; i++) {
            try (Jedis j = new Jedis("127.0.0.1", port)) {
                if ("PONG".equals(j.ping())) {
                    return p;
                }
            } catch (Exception notYet) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("redis-server did not start on " + port);
    }
}
