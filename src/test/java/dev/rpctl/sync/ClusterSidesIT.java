package dev.rpctl.sync;

import dev.rpctl.Rpctl;
import dev.rpctl.TestCluster;
import dev.rpctl.claim.ActivityService;
import dev.rpctl.claim.Allocation;
import dev.rpctl.claim.ClaimService;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.util.JedisClusterCRC16;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Side b as a Redis Cluster of the test's own (three masters, a replica each) that fails over,
 * reshards and hangs under the daemon and the claims: both sides end right without a restart,
 * and SIGTERM ends the daemon in time whatever its lanes do.
 */
class ClusterSidesIT {

    /** A fixture whose side b is the given cluster, with a short timeout so that a dead node costs little. */
    private static SyncFixture clusterSideB(TestCluster cluster) throws Exception {
        SyncFixture f = new SyncFixture();
        f.env.put("RPCTL_SIDE_B_MODE", "cluster");
        f.env.put("RPCTL_SIDE_B_NODES", cluster.nodes());
        f.env.put("RPCTL_SIDE_B_TIMEOUT", "500ms");
        // a claim's write-through that misses side b does so by an error, not by a busy machine's slowness
        f.env.put("RPCTL_CLAIM_WRITE_THROUGH_TIMEOUT", "5s");
        return f;
    }

    @Test
    void a_master_killed_under_writes_is_followed_to_its_promoted_replica_without_a_restart() throws Exception {
        try (TestCluster cluster = TestCluster.start(); SyncFixture f = clusterSideB(cluster)) {
            SyncService daemon = f.service("all", true);
            daemon.start();
            f.onClose(daemon::shutdown);
            SyncFixture.awaitLeading(daemon);
            f.insertUsers(1, 200);
            f.awaitSide("b", f.expectedRows(), 30);

            int slot = cluster.slot(f.key(f.activity, 1));
            int master = cluster.masterOf(slot);
            cluster.kill(master);
            // writes while the master is dead and its replica not yet promoted, then after
            f.insertUsers(201, 400);
            f.sql("UPDATE " + f.table + " SET version = version + 1, amount = amount + 1 WHERE user_id <= 100");
            cluster.awaitTakeover(slot, master);
            f.insertUsers(401, 600);
            f.sql("DELETE FROM " + f.table + " WHERE user_id BETWEEN 150 AND 160");
            f.sql("UPDATE " + f.table + " SET version = version + 1, status = 'refunded' WHERE user_id BETWEEN 300 AND 350");

            java.util.Map<String, String> expected = new java.util.LinkedHashMap<>(f.expectedRows());
            for (long u = 150; u <= 160; u++) {
                expected.put(f.key(f.activity, u), dev.rpctl.protocol.Entry.tombstone(2).encode());
            }
            f.awaitSide("a", expected, 30);
            f.awaitSide("b", expected, 30);
        }
    }

    @Test
    void a_slot_migrated_under_writes_and_claims_leaves_both_sides_right() throws Exception {
        try (TestCluster cluster = TestCluster.start(); SyncFixture f = clusterSideB(cluster)) {
            f.app().activities().create(new ActivityService.NewActivity(f.activity, "reshard", 1000, 1_000_000,
                    Allocation.FIXED, null, null, 1));
            ClaimService claims = f.app().claimService();
            SyncService daemon = f.service("all", true);
            daemon.start();
            f.onClose(daemon::shutdown);
            SyncFixture.awaitLeading(daemon);

            // users whose keys share one slot, and others around them
            int slot = cluster.slot(f.key(f.activity, 1));
            List<Long> same = new ArrayList<>();
            for (long u = 1; same.size() < 12; u++) {
                if (JedisClusterCRC16.getSlot(f.key(f.activity, u)) == slot) {
                    same.add(u);
                }
            }
            f.insertUsers(same.get(0), same.get(0));
            f.insertUsers(same.get(1), same.get(1));
            f.insertUsers(900_001, 900_100);
            f.awaitSide("b", f.expectedRows(), 30);

            int source = cluster.masterOf(slot);
            int target = cluster.mastersBut(source).get(0);
            // the importing node has never seen the scripts: a call asked there meets NOSCRIPT
            cluster.cli(target, "SCRIPT", "FLUSH");
            assertEquals("OK", cluster.cli(target, "CLUSTER", "SETSLOT", Integer.toString(slot), "IMPORTING", cluster.id(source)));
            assertEquals("OK", cluster.cli(source, "CLUSTER", "SETSLOT", Integer.toString(slot), "MIGRATING", cluster.id(target)));

            // half moved, nothing migrated yet: a new key is asked to the target, an old one stays on the source
            claim(claims, f, same.get(2));
            f.insertUsers(same.get(3), same.get(3));
            f.sql("UPDATE " + f.table + " SET version = version + 1, amount = 7 WHERE user_id = " + same.get(0));
            f.insertUsers(900_101, 900_200);
            f.awaitSide("b", f.expectedRows(), 30);

            // the slot's keys migrated, the slot not yet handed over: every key of it is asked to the target
            String keys = cluster.cli(source, "CLUSTER", "GETKEYSINSLOT", Integer.toString(slot), "1000");
            List<String> migrate = new ArrayList<>(List.of("MIGRATE", "127.0.0.1", Integer.toString(target), "", "0", "5000", "KEYS"));
            migrate.addAll(List.of(keys.split("\n")));
            assertEquals("OK", cluster.cli(source, migrate.toArray(String[]::new)));
            claim(claims, f, same.get(4));
            f.insertUsers(same.get(5), same.get(5));
            f.sql("UPDATE " + f.table + " SET version = version + 1, amount = 8 WHERE user_id IN (" + same.get(1) + ", " + same.get(3) + ")");
            f.awaitSide("b", f.expectedRows(), 30);

            // handed over: the source now answers MOVED
            for (int node : cluster.masters()) {
                cluster.cli(node, "CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", cluster.id(target));
            }
            claim(claims, f, same.get(6));
            f.insertUsers(same.get(7), same.get(7));
            f.sql("UPDATE " + f.table + " SET version = version + 1, amount = 9 WHERE user_id IN (" + same.get(0) + ", " + same.get(2) + ")");
            f.insertUsers(900_201, 900_300);

            java.util.Map<String, String> expected = f.expectedRows();
            f.awaitSide("a", expected, 30);
            f.awaitSide("b", expected, 30);
            assertEquals(String.valueOf(cluster.masterOf(slot)), String.valueOf(target));
        }
    }

    private static void claim(ClaimService claims, SyncFixture f, long user) {
        ClaimService.Outcome o = claims.claim(f.activity, user, "r-" + user);
        assertEquals(ClaimService.Result.CLAIMED, o.result(), o::toString);
        assertEquals(List.of(), o.failedSides(), "the claim's write-through reached both sides: " + o);
    }

    @Test
    void sigterm_ends_a_daemon_stuck_on_a_side_in_time_and_the_next_start_applies_what_it_left() throws Exception {
        try (TestCluster cluster = TestCluster.start(); SyncFixture f = clusterSideB(cluster)) {
            int lanes = 32;
            f.env.put("RPCTL_SYNC_LANES", Integer.toString(lanes));
            f.env.put("RPCTL_SYNC_QUEUE_CAPACITY", "16");
            f.env.put("RPCTL_SYNC_UNHEALTHY_LAG", "2s");
            int metricsPort = SyncFixture.freePort();
            Process first = f.rpctl("stuck", "sync-daemon", "--pipeline-prefix", f.prefix, "--from-now",
                    "--metrics", "127.0.0.1:" + metricsPort);
            SyncDaemonIT.awaitCheckpoint(f, f.prefix + "b");
            f.insertUsers(1, 20);
            f.awaitSide("b", f.expectedRows(), 30);
            assertEquals(200, get(metricsPort, "/health").statusCode());

            // a master and its replica hang: no slot of the side can be written (the cluster is down)
            int master = cluster.masterOf(cluster.slot(f.key(f.activity, 1)));
            int replica = cluster.replicaOf(master);
            cluster.pause(master);
            cluster.pause(replica);
            // rows dealt to the lanes in turn, as heartbeats are, more than each lane holds: the queues
            // fill alike until the binlog reader waits on one of them
            List<List<Long>> byLane = new ArrayList<>();
            for (int i = 0; i < lanes; i++) {
                byLane.add(new ArrayList<>());
            }
            for (long u = 1000; byLane.stream().anyMatch(l -> l.size() < 20); u++) {
                byLane.get(Pipeline.laneOf(u, lanes)).add(u);
            }
            for (int k = 0; k < 20; k++) {
                StringBuilder sql = new StringBuilder("INSERT INTO " + f.table + " (activity_id, user_id, amount, request_id, version) VALUES ");
                for (int i = 0; i < lanes; i++) {
                    long u = byLane.get(i).get(k);
                    sql.append(i == 0 ? "" : ",").append('(').append(f.activity).append(',').append(u).append(',')
                            .append(u * 10).append(",'req-").append(u).append("',1)");
                }
                f.sql(sql.toString());
            }
            awaitFullLanes(metricsPort, f.prefix + "b", 16);

            // a lane retrying one batch past sync.unhealthy-lag: /health says so, naming it
            HttpResponse<String> health = awaitHealth(metricsPort, "has retried one batch");
            assertEquals(503, health.statusCode(), health.body());
            assertTrue(health.body().contains("pipeline " + f.prefix + "b: lane "), health.body());

            first.destroy();
            // within the systemd unit's stop timeout (TimeoutStopSec=15), which then kills
            assertTrue(first.waitFor(15, TimeUnit.SECONDS), "SIGTERM ends the daemon within the unit's stop timeout");
            assertEquals(0, first.exitValue(), f.stderr("stuck"));

            cluster.resume(master);
            cluster.resume(replica);
            cluster.awaitOk();
            Process second = f.rpctl("second", "sync-daemon", "--pipeline-prefix", f.prefix,
                    "--metrics", "127.0.0.1:" + SyncFixture.freePort());
            java.util.Map<String, String> expected = f.expectedRows();
            f.awaitSide("a", expected, 60);
            f.awaitSide("b", expected, 60);
            second.destroy();
            assertTrue(second.waitFor(15, TimeUnit.SECONDS));
            assertEquals(0, second.exitValue(), f.stderr("second"));
        }
    }

    @Test
    void inspect_with_a_cluster_side_down_exits_69_and_still_judges_the_other_side() throws Exception {
        try (TestCluster cluster = TestCluster.start(); SyncFixture f = clusterSideB(cluster)) {
            f.app().activities().create(new ActivityService.NewActivity(f.activity, "inspect", 10, 1000,
                    Allocation.FIXED, null, null, 1));
            ClaimService.Outcome claimed = f.app().claimService().claim(f.activity, 42, "r-42");
            assertEquals(ClaimService.Result.CLAIMED, claimed.result(), claimed::toString);
            int master = cluster.masterOf(cluster.slot(f.key(f.activity, 42)));
            int replica = cluster.replicaOf(master);
            cluster.kill(master);
            cluster.kill(replica);
            cluster.awaitDown();

            Rpctl rpctl = Rpctl.withServices();
            for (var e : f.env.entrySet()) {
                if (e.getKey().startsWith("RPCTL_")) {
                    rpctl = rpctl.with(e.getKey(), e.getValue());
                }
            }
            Rpctl.Result r = rpctl.run("inspect", "--user", "42", "--activity", Long.toString(f.activity));
            assertEquals(69, r.exitCode(), r::toString);
            String sideA = r.out().lines().filter(l -> l.contains("side a")).findFirst().orElseThrow(() -> new AssertionError(r));
            assertTrue(sideA.contains("consistent"), r.out());
            assertTrue(r.err().contains("redis side b at "), r.err());
        }
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Waits until /health's body holds the text. */
    private static HttpResponse<String> awaitHealth(int port, String text) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        HttpResponse<String> r = get(port, "/health");
        while (!r.body().contains(text)) {
            if (System.nanoTime() > until) {
                fail("/health never said '" + text + "': " + r.statusCode() + " " + r.body());
            }
            Thread.sleep(200);
            r = get(port, "/health");
        }
        return r;
    }

    /** Waits until the binlog reader is held by the pipeline's lanes: a lane queue at capacity. */
    private static void awaitFullLanes(int port, String pipeline, int capacity) throws Exception {
        Pattern depth = Pattern.compile("rpctl_sync_lane_queue_depth\\{pipeline=\"" + Pattern.quote(pipeline) + "\",[^}]*} (\\d+)");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            Matcher m = depth.matcher(get(port, "/metrics").body());
            while (m.find()) {
                if (Integer.parseInt(m.group(1)) >= capacity) {
                    return;
                }
            }
            if (System.nanoTime() > until) {
                fail("no lane of " + pipeline + " filled up");
            }
            Thread.sleep(100);
        }
    }
}
