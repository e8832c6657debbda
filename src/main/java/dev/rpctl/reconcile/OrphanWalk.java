package dev.rpctl.reconcile;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.reconcile.ReconcileReport.SideCounts;
import dev.rpctl.reconcile.ReconcileRepository.Key;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** {@code reconcile --orphans}: the side's own keys walked for entries the claim table has no row for. */
final class OrphanWalk {
    /** Reconcile's confirmation and repair of suspect keys (ReconcileService.confirm). */
    interface Confirm {
        List<ReconcileService.Confirmation> confirm(CacheSide side, List<Key> keys, List<String> keyStrings,
                                                    ReconcileService.Request req);
    }

    private final ReconcileRepository primary;
    private final CacheProtocol protocol;
    private final Confirm confirm;
    private final BooleanSupplier stopping;

    OrphanWalk(ReconcileRepository primary, CacheProtocol protocol, Confirm confirm, BooleanSupplier stopping) {
        this.primary = primary;
        this.protocol = protocol;
        this.confirm = confirm;
        this.stopping = stopping;
    }

    /**
     * Walks the side's claim keys of the scope (SCAN, a page at a time) for row entries whose row
     * does not exist (a row deleted by TRUNCATE or with the binlog off, a claim table restored
     * from a backup): each is confirmed (the row read again from the primary, the entry again from
     * the side) and, unless dry, swapped for its tombstone.
     */
    SideCounts walk(CacheSide side, Scope scope, ReconcileService.Request req, SideCounts before) {
        long[] found = new long[2];
        side.scan(protocol.scanPattern(scope.activityId()), 1000, page -> {
            if (stopping.getAsBoolean()) {
                return;
            }
            List<String> keys = new ArrayList<>();
            List<Key> ids = new ArrayList<>();
            for (String k : page) {
                long[] id = protocol.ids(k);
                if (id != null && (scope.activityId() <= 0 || id[0] == scope.activityId())
                        && (scope.fromUser() == null || (id[1] >= scope.fromUser() && id[1] <= scope.toUser()))) {
                    keys.add(k);
                    ids.add(new Key(id[0], id[1]));
                }
            }
            List<String> raws = side.getAll(keys);
            List<Key> rowEntries = new ArrayList<>();
            for (int i = 0; i < keys.size(); i++) {
                if (raws.get(i) != null && raws.get(i).startsWith("R|")) {
                    rowEntries.add(ids.get(i));
                }
            }
            Map<Key, ClaimRow> rows = primary.rows(rowEntries);
            List<Key> suspects = new ArrayList<>();
            List<String> suspectKeys = new ArrayList<>();
            for (Key k : rowEntries) {
                if (!rows.containsKey(k)) {
                    suspects.add(k);
                    suspectKeys.add(protocol.key(k.activityId(), k.userId()));
                }
            }
            if (suspects.isEmpty()) {
                return;
            }
            for (ReconcileService.Confirmation c : confirm.confirm(side, suspects, suspectKeys, req)) {
                if (!c.view().verdict().fine()) {
                    found[0]++;
                    if (c.repair() == ReconcileService.Repair.REPAIRED) {
                        found[1]++;
                    }
                }
            }
        });
        return before.withOrphans(found[0], found[1]);
    }
}
