package dev.rpctl.claim;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.config.MappingSettings;
import dev.rpctl.db.Database;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import dev.rpctl.protocol.UndecodableEntryException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The invariants of an activity after a run, as counts: no user claimed twice, the budget not
 * overspent, remaining equal to total minus paid, and every touched user's entry on every side
 * equal to the primary's row (an absent entry, placeholder or tombstone is right where there is no row).
 */
public final class VerifyService {
    private static final int BATCH = 500;

    /**
     * differing: entries that tell a reader something else than the row; missing: absent entries,
     * which are fine (a read fills them); unreachable: why the side could not be checked (null
     * when it was), the counts then being those of the batches checked before.
     */
    public record SideCheck(String side, long checked, long differing, long missing, List<String> examples, String unreachable) {}

    public record Report(long activityId, long usersWithTwoClaims, long paidCount, long paidAmount,
                         long totalCount, long totalAmount, long remainingCount, long remainingAmount,
                         boolean overspent, boolean remainingMismatch, List<SideCheck> sides) {
        public boolean consistent() {
            return checkedConsistent() && sides.stream().allMatch(s -> s.unreachable() == null);
        }

        /** Whether every check that could be made passed (a side that could not be checked left out). */
        public boolean checkedConsistent() {
            return usersWithTwoClaims == 0 && !overspent && !remainingMismatch
                    && sides.stream().allMatch(s -> s.differing() == 0);
        }

        /** The sides that could not be checked (unreachable), by name. */
        public List<String> unchecked() {
            return sides.stream().filter(s -> s.unreachable() != null).map(SideCheck::side).toList();
        }
    }

    private final Database db;
    private final MappingSettings mapping;
    private final ActivityService activities;
    private final ClaimRepository claims;
    private final CacheProtocol protocol;
    private final List<CacheSide> sides;

    public VerifyService(Database db, MappingSettings mapping, ActivityService activities, ClaimRepository claims,
                         CacheProtocol protocol, List<CacheSide> sides) {
        this.db = db;
        this.mapping = mapping;
        this.activities = activities;
        this.claims = claims;
        this.protocol = protocol;
        this.sides = sides;
    }

    public Report verify(long activityId, List<Long> touchedUsers) {
        Activity a = activities.require(activityId);
        long twice;
        long paidCount;
        long paidAmount;
        try (Connection c = db.connection()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM (SELECT user_id FROM " + mapping.claimTable()
                    + " WHERE activity_id = ? GROUP BY user_id HAVING COUNT(*) > 1) t")) {
                ps.setLong(1, activityId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    twice = rs.getLong(1);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM "
                    + mapping.claimTable() + " WHERE activity_id = ?")) {
                ps.setLong(1, activityId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    paidCount = rs.getLong(1);
                    paidAmount = rs.getLong(2);
                }
            }
        } catch (SQLException e) {
            throw db.translate(e);
        }
        boolean overspent = paidCount > a.totalCount() || paidAmount > a.totalAmount();
        boolean mismatch = a.remainingCount() != a.totalCount() - paidCount || a.remainingAmount() != a.totalAmount() - paidAmount
                || a.remainingCount() < 0 || a.remainingAmount() < 0;
        List<SideCheck> checks = new ArrayList<>();
        Map<String, long[]> counts = new LinkedHashMap<>();
        Map<String, List<String>> examples = new HashMap<>();
        Map<String, String> unreachable = new HashMap<>();
        for (CacheSide s : sides) {
            counts.put(s.name(), new long[3]);
            examples.put(s.name(), new ArrayList<>());
        }
        for (int i = 0; i < touchedUsers.size(); i += BATCH) {
            List<Long> batch = touchedUsers.subList(i, Math.min(touchedUsers.size(), i + BATCH));
            Map<Long, ClaimRow> rows = new HashMap<>();
            for (ClaimRow r : claims.findRange(activityId, batch.get(0), batch.get(batch.size() - 1))) {
                rows.put(r.userId(), r);
            }
            List<String> keys = batch.stream().map(u -> protocol.key(activityId, u)).toList();
            for (CacheSide s : sides) {
                if (unreachable.containsKey(s.name())) {
                    continue;
                }
                List<String> raws;
                try {
                    raws = s.getAll(keys);
                } catch (RpctlException e) {
                    if (e.exitCode() != ExitCode.UNAVAILABLE) {
                        throw e;
                    }
                    // the database's invariants and the other side are still checked
                    unreachable.put(s.name(), e.getMessage());
                    continue;
                }
                long[] n = counts.get(s.name());
                for (int k = 0; k < batch.size(); k++) {
                    n[0]++;
                    if (raws.get(k) == null && rows.get(batch.get(k)) != null) {
                        n[2]++;
                    } else if (!matches(raws.get(k), rows.get(batch.get(k)))) {
                        n[1]++;
                        List<String> ex = examples.get(s.name());
                        if (ex.size() < 5) {
                            ex.add(keys.get(k) + "=" + raws.get(k));
                        }
                    }
                }
            }
        }
        for (CacheSide s : sides) {
            long[] n = counts.get(s.name());
            checks.add(new SideCheck(s.name(), n[0], n[1], n[2], examples.get(s.name()), unreachable.get(s.name())));
        }
        return new Report(activityId, twice, paidCount, paidAmount, a.totalCount(), a.totalAmount(),
                a.remainingCount(), a.remainingAmount(), overspent, mismatch, checks);
    }

    /**
     * Whether an entry tells a reader the truth. After a run every claimed row was written through,
     * so its entry must be there and equal; where there is no row, anything but a row is right.
     */
    static boolean matches(String raw, ClaimRow row) {
        if (raw == null) {
            return row == null;
        }
        Entry e;
        try {
            e = Entry.decode(raw);
        } catch (UndecodableEntryException ex) {
            return false;
        }
        if (row == null) {
            return e.kind() != Entry.Kind.ROW;
        }
        return e.sameRow(row);
    }
}
