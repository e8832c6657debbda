package dev.rpctl.reconcile;

import dev.rpctl.app.App;
import dev.rpctl.Rpctl;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.Services;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.RawRedis;
import dev.rpctl.claim.ActivityService;
import dev.rpctl.claim.Allocation;
import dev.rpctl.claim.ClaimService;
import dev.rpctl.inspect.InspectService.Verdict;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** reconcile against the local MariaDB and both Redis sides, with every kind of difference made by hand. */
class ReconcileIT {
    static final int USERS = 300;
    App app;
    long activity;
    String table;
    CacheProtocol protocol;

    @BeforeAll
    static void schema() {
        assertEquals(0, Rpctl.withServices().run("db", "init").exitCode());
    }

    @BeforeEach
    void open() throws Exception {
        app = Services.app();
        protocol = app.protocol();
        table = app.config().mapping().claimTable();
        activity = Services.freshActivityId();
        sql("INSERT INTO " + table + " (activity_id, user_id, amount, request_id, version) SELECT " + activity
                + ", seq, seq * 10, CONCAT('req-', seq), 1 FROM seq_1_to_" + USERS);
        // the entries the claims and the sync daemon would have left
        for (CacheSide s : app.sides().values()) {
            protocol.putAll(s, expectedEntries());
        }
    }

    @AfterEach
    void close() {
        app.close();
    }

    private void sql(String... statements) throws Exception {
        try (Connection c = app.primary().connection(); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    private List<CacheProtocol.Write> expectedEntries() {
        List<CacheProtocol.Write> out = new ArrayList<>();
        for (ClaimRow r : app.claims().findRange(activity, 1, Long.MAX_VALUE)) {
            out.add(new CacheProtocol.Write(protocol.key(activity, r.userId()), Entry.row(r)));
        }
        return out;
    }

    private String key(long user) {
        return protocol.key(activity, user);
    }

    private void set(String side, long user, String raw) {
        RawRedis.call(app.side(side), j -> raw == null ? j.del(key(user)) : j.set(key(user), raw));
    }

    private ReconcileService.Request request(boolean dryRun) {
        return new ReconcileService.Request(new Scope(activity, null, null, null, List.of("a", "b")), dryRun,
                ReconcileService.RepairMode.REWRITE, 0, 50, false);
    }

    private static final ReconcileService.Listener QUIET = (checked, seconds, where) -> { };

    /** Every kind of difference, made by writing entries directly. */
    private void damage() throws Exception {
        sql("UPDATE " + table + " SET amount = amount + 1 WHERE activity_id = " + activity + " AND user_id IN (2, 8)",
                "DELETE FROM " + table + " WHERE activity_id = " + activity + " AND user_id = 9");
        set("a", 1, null);                                  // missing: fine, filled on the next read
        set("a", 3, "P|0");                                 // placeholder-but-row-exists
        set("a", 4, "R|99|1|paid|x|0");                     // ahead-of-db
        set("a", 5, "garbage");                             // undecodable
        RawRedis.call(app.side("a"), j -> j.set(key(6), "L|stuck")); // a lease without a TTL
        set("a", 7, "R|1|1|paid|req-7|0");                  // same version, other content
        // users 2 and 8 moved to version 2: both sides keep version 1 (stale); user 9 deleted: both keep its row
    }

    @Test
    void a_dry_run_finds_every_kind_of_difference_and_a_real_run_repairs_them_while_claims_flow() throws Exception {
        damage();
        Map<String, String> before = snapshot("a");
        ReconcileReport dry = app.reconcileService("all").run(request(true), QUIET);
        assertFalse(dry.consistent());
        ReconcileReport.SideCounts a = dry.sides().get(0);
        ReconcileReport.SideCounts b = dry.sides().get(1);
        assertEquals(USERS, a.checked(), "every claim and the deleted key: " + a);
        assertEquals(1, a.count(Verdict.MISSING));
        assertEquals(1, a.count(Verdict.PLACEHOLDER_BUT_ROW_EXISTS));
        assertEquals(1, a.count(Verdict.AHEAD_OF_DB));
        assertEquals(1, a.count(Verdict.UNDECODABLE));
        assertEquals(1, a.count(Verdict.LEASE_STUCK));
        assertEquals(4, a.count(Verdict.STALE), "users 2, 7, 8 and the deleted user 9: " + a);
        assertEquals(3, b.count(Verdict.STALE), "users 2, 8 and the deleted user 9: " + b);
        assertEquals(before, snapshot("a"), "a dry run writes nothing");

        // claims of other users go on while the real run repairs
        long other = Services.freshActivityId();
        app.activities().create(new ActivityService.NewActivity(other, "it", 1000, 100_000, Allocation.FIXED, null, null, 4));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger claimed = new AtomicInteger();
        Thread claims = new Thread(() -> {
            for (long u = 1; !stop.get() && u <= 1000; u++) {
                if (app.claimService().claim(other, u, null).result() == ClaimService.Result.CLAIMED) {
                    claimed.incrementAndGet();
                }
            }
        });
        claims.start();
        Map<String, String> consistentBefore = snapshotRange("b", 20, USERS);
        ReconcileReport run = app.reconcileService("all").run(request(false), QUIET);
        stop.set(true);
        claims.join();
        assertTrue(claimed.get() > 0);
        assertTrue(run.consistent(), run.toString());
        assertEquals(8, run.sides().get(0).repaired(), run.toString());
        assertEquals(3, run.sides().get(1).repaired(), run.toString());
        assertEquals(consistentBefore, snapshotRange("b", 20, USERS), "no consistent entry was touched");
        assertEquals("T|2", app.side("b").get(key(9)), "the deleted row's entry became its tombstone");
        assertEquals(null, app.side("a").get(key(1)), "a missing entry is left for the next read to fill");

        ReconcileReport after = app.reconcileService("all").run(request(true), QUIET);
        assertTrue(after.consistent(), after.toString());
    }

    @Test
    void a_row_written_between_the_comparison_and_the_repair_is_left_alone() throws Exception {
        sql("UPDATE " + table + " SET amount = 1 WHERE activity_id = " + activity + " AND user_id = 11");
        ReconcileService service = app.reconcileService("a");
        String k = key(11);
        service.beforeRepair(key -> {
            if (key.equals(k)) {
                // a claim's write-through or the daemon lands the newer version first
                try {
                    sql("UPDATE " + table + " SET amount = 2 WHERE activity_id = " + activity + " AND user_id = 11");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                protocol.put(app.side("a"), k, Entry.row(app.claims().find(activity, 11).orElseThrow()));
            }
        });
        ReconcileReport r = service.run(new ReconcileService.Request(new Scope(activity, null, null, null, List.of("a")), false,
                ReconcileService.RepairMode.REWRITE, 0, 50, false), QUIET);
        assertEquals(0, r.sides().get(0).repaired());
        assertEquals(1, r.sides().get(0).repairSkipped());
        assertTrue(Entry.decode(app.side("a").get(k)).sameRow(app.claims().find(activity, 11).orElseThrow()),
                "the newer entry stays: " + app.side("a").get(k));
    }

    @Test
    void an_interrupted_run_saves_where_it_got_to_and_resume_continues_from_there() throws Exception {
        ReconcileService first = app.reconcileService("all");
        ReconcileService.Request req = new ReconcileService.Request(new Scope(activity, null, null, null, List.of("a", "b")),
                true, ReconcileService.RepairMode.REWRITE, 0, 20, true);
        ReconcileReport part = first.run(req, (checked, seconds, where) -> {
            if (checked >= 100) {
                first.stop();
            }
        });
        assertTrue(part.interrupted() && !part.completed(), part.toString());
        assertEquals(100, part.keysChecked());
        ReconcileReport rest = app.reconcileService("all").run(req, QUIET);
        assertTrue(rest.completed());
        assertEquals(USERS - 100, rest.keysChecked(), "resumed after the 100 keys already checked");
        assertEquals(USERS, rest.rowsScanned());
        ReconcileReport again = app.reconcileService("all").run(req, QUIET);
        assertEquals(USERS, again.keysChecked(), "a finished run is not resumed: the next starts over");
    }

    @Test
    void a_second_reconcile_of_the_same_scope_is_refused_with_75() throws Exception {
        ReconcileService.Request req = request(true);
        ReconcileRepository repo = new ReconcileRepository(app.primary(), app.config().mapping());
        try (Connection held = repo.lock(req.scope().id())) {
            RpctlException e = assertThrows(RpctlException.class, () -> app.reconcileService("all").run(req, QUIET));
            assertEquals(75, e.exitCode().code());
        }
    }

    @Test
    void the_command_exits_1_on_a_dry_run_with_differences_0_after_repair_and_writes_prometheus_text() throws Exception {
        set("b", 12, "P|0");
        Path prom = Files.createTempFile("rpctl-reconcile", ".prom");
        Rpctl rpctl = Rpctl.withServices();
        Rpctl.Result dry = rpctl.run("reconcile", "--activity", Long.toString(activity), "--dry-run", "--prom-file", prom.toString());
        assertEquals(1, dry.exitCode(), dry::toString);
        assertTrue(dry.out().lines().anyMatch(l -> l.startsWith("b ") && l.contains(" 1 ")), dry.out());
        String text = Files.readString(prom);
        assertTrue(text.contains("rpctl_reconcile_differences{side=\"b\",verdict=\"placeholder-but-row-exists\"} 1"), text);
        assertTrue(text.contains("rpctl_reconcile_completed 1"), text);
        Rpctl.Result run = rpctl.run("--json", "reconcile", "--activity", Long.toString(activity));
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("\"repaired\""), run.out());
        assertEquals(0, rpctl.run("reconcile", "--activity", Long.toString(activity), "--dry-run").exitCode());
        Files.deleteIfExists(prom);
    }

    @Test
    void orphans_are_found_by_walking_the_keys_on_a_single_side_and_on_the_cluster_and_become_tombstones() throws Exception {
        Map<String, String> env = new HashMap<>(Services.env());
        env.put("RPCTL_SIDE_B_MODE", "cluster");
        env.put("RPCTL_SIDE_B_NODES", Services.clusterNodes());
        try (App mixed = new App(new dev.rpctl.config.ConfigLoader(env, Path.of("").toAbsolutePath()).load(null, Map.of()))) {
            CacheSide a = mixed.side("a");
            CacheSide cluster = mixed.side("b");
            // entries of rows that never reached the database (or left it without a trace)
            for (long u = 1001; u <= 1005; u++) {
                protocol.put(a, key(u), Entry.row(new ClaimRow(activity, u, 5, "paid", "ghost", 3, 0)));
            }
            for (long u = 2001; u <= 2003; u++) {
                protocol.put(cluster, key(u), Entry.row(new ClaimRow(activity, u, 5, "paid", "ghost", 1, 0)));
            }
            protocol.put(a, key(1006), Entry.placeholder());
            ReconcileService.Request dry = new ReconcileService.Request(new Scope(activity, null, null, null, List.of("a", "b")),
                    true, ReconcileService.RepairMode.REWRITE, 0, 100, false, true);
            ReconcileReport found = mixed.reconcileService("all").run(dry, QUIET);
            assertEquals(5, found.sides().get(0).orphans(), found.toString());
            assertEquals(3, found.sides().get(1).orphans(), found.toString());
            assertFalse(found.consistent());
            ReconcileReport fixed = mixed.reconcileService("all").run(new ReconcileService.Request(dry.scope(), false,
                    ReconcileService.RepairMode.REWRITE, 0, 100, false, true), QUIET);
            assertTrue(fixed.consistent(), fixed.toString());
            assertEquals("T|4", a.get(key(1003)));
            assertEquals("T|2", cluster.get(key(2002)));
            assertEquals("P|0", a.get(key(1006)), "a placeholder is no orphan");
            assertEquals(0, mixed.reconcileService("all").run(dry, QUIET).sides().get(1).orphans());
        }
    }

    private Map<String, String> snapshot(String side) {
        return snapshotRange(side, 1, USERS);
    }

    private Map<String, String> snapshotRange(String side, long from, long to) {
        List<String> keys = new ArrayList<>();
        for (long u = from; u <= to; u++) {
            keys.add(key(u));
        }
        List<String> values = app.side(side).getAll(keys);
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            out.put(keys.get(i), values.get(i));
        }
        return out;
    }
}
