package dev.rpctl.claim;

import dev.rpctl.config.MappingSettings;
import dev.rpctl.db.Database;
import dev.rpctl.protocol.ClaimRow;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads claim rows. Fills and repairs read the primary: a lagging replica would cache an old version. */
public final class ClaimRepository {
    private final Database db;
    private final String select;
    private final String topQuery;
    private final String table;

    public ClaimRepository(Database db, MappingSettings mapping) {
        this(db, mapping, null);
    }

    /** With the query of 'warm --top' (two parameters: activity id, N). */
    public ClaimRepository(Database db, MappingSettings mapping, String topQuery) {
        this.db = db;
        this.topQuery = topQuery;
        this.table = mapping.claimTable();
        this.select = "SELECT activity_id, user_id, amount, status, request_id, " + mapping.versionColumn()
                + ", updated_at FROM " + mapping.claimTable();
    }

    public Database database() {
        return db;
    }

    public Optional<ClaimRow> find(long activityId, long userId) {
        try (Connection c = db.connection()) {
            return find(c, activityId, userId);
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    Optional<ClaimRow> find(Connection c, long activityId, long userId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(select + " WHERE activity_id = ? AND user_id = ?")) {
            ps.setLong(1, activityId);
            ps.setLong(2, userId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    /** Every claim of one user, over all activities (or one, when activityId > 0). */
    public List<ClaimRow> findByUser(long userId, long activityId) {
        String sql = select + " WHERE user_id = ?" + (activityId > 0 ? " AND activity_id = ?" : "") + " ORDER BY activity_id";
        return list(sql, activityId > 0 ? new long[] {userId, activityId} : new long[] {userId});
    }

    /** Claims of one activity for users in [fromUser, toUser], in key order. */
    public List<ClaimRow> findRange(long activityId, long fromUser, long toUser) {
        return list(select + " WHERE activity_id = ? AND user_id BETWEEN ? AND ? ORDER BY user_id",
                new long[] {activityId, fromUser, toUser});
    }

    /** The claims of users[from..to) in one activity, by user id; one query. */
    public Map<Long, ClaimRow> findUsers(long activityId, long[] users, int from, int to) {
        Map<Long, ClaimRow> out = new HashMap<>();
        if (from >= to) {
            return out;
        }
        StringBuilder sql = new StringBuilder(select).append(" WHERE activity_id = ").append(activityId).append(" AND user_id IN (");
        for (int i = from; i < to; i++) {
            sql.append(i == from ? "" : ", ").append(users[i]);
        }
        for (ClaimRow r : list(sql.append(')').toString(), new long[0])) {
            out.put(r.userId(), r);
        }
        return out;
    }

    /** User ids of an activity's claims above afterUser, in order, at most limit: a keyset page. */
    public long[] claimers(long activityId, long afterUser, int limit) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement("SELECT user_id FROM " + table
                + " WHERE activity_id = ? AND user_id > ? ORDER BY user_id LIMIT " + limit)) {
            ps.setLong(1, activityId);
            ps.setLong(2, afterUser);
            long[] out = new long[limit];
            int n = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out[n++] = rs.getLong(1);
                }
            }
            return java.util.Arrays.copyOf(out, n);
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /** The user ids the top query names for an activity, at most n. */
    public long[] userIds(long activityId, int n) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(topQuery)) {
            ps.setLong(1, activityId);
            ps.setInt(2, n);
            List<Long> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
            return ids.stream().mapToLong(Long::longValue).toArray();
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    private List<ClaimRow> list(String sql, long[] params) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setLong(i + 1, params[i]);
            }
            List<ClaimRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(row(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    static ClaimRow row(ResultSet rs) throws SQLException {
        return new ClaimRow(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getString(4), rs.getString(5),
                rs.getLong(6), rs.getTimestamp(7).getTime());
    }
}
