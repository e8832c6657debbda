package dev.rpctl.reconcile;

import dev.rpctl.config.MappingSettings;
import dev.rpctl.db.Database;
import dev.rpctl.db.SchemaService;
import dev.rpctl.protocol.ClaimRow;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The SQL of a reconcile: claims and deleted keys of a scope in key order, a chunk at a time
 * (keyset pagination: each chunk starts after the last key of the one before, never OFFSET), the
 * rows of given keys read again, and where a run got to, in {@value #PROGRESS_TABLE}.
 */
public final class ReconcileRepository {
    static final String PROGRESS_TABLE = SchemaService.RECONCILE_TABLE;

    /** A key of the claim table. */
    record Key(long activityId, long userId) {}

    /**
     * A position in a scan's order: the key order, or with --since (time, key) order, time being
     * the row's update time or the key's delete time in milliseconds.
     */
    record Cursor(long timeMillis, long activityId, long userId) {
        static final Cursor START = new Cursor(Long.MIN_VALUE, Long.MIN_VALUE, Long.MIN_VALUE);
    }

    /** Where a run of one scope got to: which table and after which position; {@code done} once it finished. */
    record Progress(String scope, String table, Cursor after, long sinceMillis, long scanned, boolean done) {}

    private final Database db;
    private final String claimTable;
    private final String tombstoneTable;
    private final String select;

    public ReconcileRepository(Database db, MappingSettings mapping) {
        this.db = db;
        this.claimTable = mapping.claimTable();
        this.tombstoneTable = SchemaService.tombstoneTable(mapping);
        this.select = "SELECT activity_id, user_id, amount, status, request_id, " + mapping.versionColumn()
                + ", TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', updated_at) DIV 1000 FROM " + claimTable;
    }

    Database database() {
        return db;
    }

    /** The scope's claims after {@code after} in scan order, at most limit, each with its place in that order. */
    List<Scanned<ClaimRow>> claims(Scope scope, Cursor after, long sinceMillis, int limit) {
        String sql = select.replace(" FROM ", ", " + MILLIS.replace("%s", "updated_at") + " FROM ")
                + where(scope, after, sinceMillis, "updated_at") + order(sinceMillis, "updated_at") + " LIMIT " + limit;
        return query(sql, rs -> new Scanned<>(CLAIM_ROW.read(rs), new Cursor(sinceMillis > 0 ? rs.getLong(8) : 0,
                rs.getLong(1), rs.getLong(2))), scope, sinceMillis);
    }

    /** The scope's deleted keys after {@code after} whose row is still gone, with their tombstone versions. */
    List<Scanned<Tombstone>> tombstones(Scope scope, Cursor after, long sinceMillis, int limit) {
        String sql = "SELECT activity_id, user_id, version, " + MILLIS.replace("%s", "deleted_at") + " FROM " + tombstoneTable + " t"
                + where(scope, after, sinceMillis, "deleted_at")
                + " AND NOT EXISTS (SELECT 1 FROM " + claimTable + " c WHERE c.activity_id = t.activity_id"
                + " AND c.user_id = t.user_id)" + order(sinceMillis, "deleted_at") + " LIMIT " + limit;
        return query(sql, rs -> new Scanned<>(new Tombstone(new Key(rs.getLong(1), rs.getLong(2)), rs.getLong(3)),
                new Cursor(sinceMillis > 0 ? rs.getLong(4) : 0, rs.getLong(1), rs.getLong(2))), scope, sinceMillis);
    }

    private static final String MILLIS = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', %s) DIV 1000";

    /** One item of a scan and its position, where the next chunk starts after the last. */
    record Scanned<T>(T item, Cursor at) {}

    record Tombstone(Key key, long version) {}

    /** A claim row as {@link #select} reads it. */
    private static final RowReader<ClaimRow> CLAIM_ROW = rs -> new ClaimRow(rs.getLong(1), rs.getLong(2), rs.getLong(3),
            rs.getString(4), rs.getString(5), rs.getLong(6), rs.getLong(7));

    /** "(activity_id, user_id) IN ((a, u), ...)" for these keys. */
    private static String in(Collection<Key> keys) {
        StringBuilder sb = new StringBuilder("(activity_id, user_id) IN (");
        String sep = "";
        for (Key k : keys) {
            sb.append(sep).append('(').append(k.activityId()).append(", ").append(k.userId()).append(')');
            sep = ", ";
        }
        return sb.append(')').toString();
    }

    /** The rows of these keys as the primary has them now; a key without a row is absent from the map. */
    Map<Key, ClaimRow> rows(Collection<Key> keys) {
        Map<Key, ClaimRow> out = new HashMap<>();
        if (keys.isEmpty()) {
            return out;
        }
        for (ClaimRow r : query(select + " WHERE " + in(keys), CLAIM_ROW, null, 0)) {
            out.put(new Key(r.activityId(), r.userId()), r);
        }
        return out;
    }

    /** The tombstone versions of these keys; a key never deleted is absent from the map. */
    Map<Key, Long> tombstoneVersions(Collection<Key> keys) {
        Map<Key, Long> out = new HashMap<>();
        if (keys.isEmpty()) {
            return out;
        }
        for (Tombstone t : query("SELECT activity_id, user_id, version FROM " + tombstoneTable + " WHERE " + in(keys),
                rs -> new Tombstone(new Key(rs.getLong(1), rs.getLong(2)), rs.getLong(3)), null, 0)) {
            out.put(t.key(), t.version());
        }
        return out;
    }

    Optional<Progress> progress(String scope) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement("SELECT scan_table, after_millis,"
                + " after_activity, after_user, since_millis, scanned, done FROM " + PROGRESS_TABLE + " WHERE scope = ?")) {
            ps.setString(1, scope);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Progress(scope, rs.getString(1), new Cursor(rs.getLong(2), rs.getLong(3), rs.getLong(4)),
                        rs.getLong(5), rs.getLong(6), rs.getBoolean(7)));
            }
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    void save(Progress p) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement("INSERT INTO " + PROGRESS_TABLE
                + " (scope, scan_table, after_activity, after_user, since_millis, scanned, done, after_millis)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON DUPLICATE KEY UPDATE scan_table = VALUES(scan_table), after_activity = VALUES(after_activity),"
                + " after_millis = VALUES(after_millis),"
                + " after_user = VALUES(after_user), since_millis = VALUES(since_millis), scanned = VALUES(scanned),"
                + " done = VALUES(done)")) {
            ps.setString(1, p.scope());
            ps.setString(2, p.table());
            ps.setLong(3, p.after().activityId());
            ps.setLong(4, p.after().userId());
            ps.setLong(5, p.sinceMillis());
            ps.setLong(6, p.scanned());
            ps.setBoolean(7, p.done());
            ps.setLong(8, p.after().timeMillis());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /**
     * The named lock of a scope, held on a connection of its own for the whole run, so a second
     * reconcile of the same scope finds it taken; null when another session holds it.
     */
    Connection lock(String scope) {
        try {
            Connection c = db.connect("");
            try (PreparedStatement ps = c.prepareStatement("SELECT GET_LOCK(?, 0)")) {
                // lock names are at most 64 characters
                ps.setString(1, "rpctl.reconcile." + Integer.toHexString(scope.hashCode()) + "." + scope.length());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getInt(1) == 1) {
                        return c;
                    }
                }
            }
            c.close();
            return null;
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /**
     * The scope, and the keyset condition "after the cursor". Without --since the order is the
     * primary key's; with it, (time, key), which the index on the time column serves (an InnoDB
     * secondary index ends in the primary key).
     */
    private static String where(Scope scope, Cursor after, long sinceMillis, String timeColumn) {
        StringBuilder w = new StringBuilder(" WHERE ");
        String key = "(activity_id > " + after.activityId() + " OR (activity_id = " + after.activityId()
                + " AND user_id > " + after.userId() + "))";
        if (sinceMillis > 0) {
            w.append(timeColumn).append(" >= ?");
            if (after.timeMillis() != Long.MIN_VALUE) {
                String t = "FROM_UNIXTIME(" + after.timeMillis() / 1000 + "." + String.format("%03d", Math.floorMod(after.timeMillis(), 1000)) + ")";
                w.append(" AND (").append(timeColumn).append(" > ").append(t).append(" OR (").append(timeColumn)
                        .append(" = ").append(t).append(" AND ").append(key).append("))");
            }
        } else if (scope.activityId() > 0) {
            w.append("user_id > ").append(after.activityId() == scope.activityId() ? after.userId() : Long.MIN_VALUE);
        } else {
            w.append(key);
        }
        if (scope.activityId() > 0) {
            w.append(" AND activity_id = ").append(scope.activityId());
        }
        if (scope.fromUser() != null) {
            w.append(" AND user_id BETWEEN ").append(scope.fromUser()).append(" AND ").append(scope.toUser());
        }
        return w.toString();
    }

    private static String order(long sinceMillis, String timeColumn) {
        return sinceMillis > 0 ? " ORDER BY " + timeColumn + ", activity_id, user_id" : " ORDER BY activity_id, user_id";
    }

    private interface RowReader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    private <T> List<T> query(String sql, RowReader<T> reader, Scope scope, long sinceMillis) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            if (scope != null && sinceMillis > 0) {
                ps.setTimestamp(1, new Timestamp(sinceMillis));
            }
            List<T> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(reader.read(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }
}
