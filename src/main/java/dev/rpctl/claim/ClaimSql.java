package dev.rpctl.claim;

import dev.rpctl.config.MappingSettings;
import dev.rpctl.db.SchemaService;
import dev.rpctl.protocol.ClaimRow;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The claim path's SQL: the text of each statement a claim transaction sends, and the readers
 * of what they answer. Values go in as literals (numbers, times formatted here, request ids that
 * {@link #isRequestId} allows), so a group's whole batch is one plain statement.
 */
final class ClaimSql {
    /** Budget taken from one shard: its row is locked until the commit. */
    record Shard(int shard, long count, long amount) {}

    /**
     * What the duplicate read found: the claims the users already have, and the tombstone version
     * of each user's key that was deleted before (the version the claim table's trigger gives a
     * row inserted there again).
     */
    record Existing(List<ClaimRow> rows, Map<Long, Long> tombstones) {
        long startVersion(long userId) {
            Long v = tombstones.get(userId);
            return v == null ? 1 : Math.max(1, v);
        }
    }

    /**
     * How a group's transaction begins. When it begun, the read of existing claims, START
     * TRANSACTION and the first shard pick went in one round trip; shard is that pick's answer
     * (null when no unlocked shard at or above start had budget).
     */
    record Opening(Existing existing, boolean begun, Shard shard, int start) {}

    private static final String[] PICKS = {" AND shard >= ", " AND shard < ", " AND shard >= "};
    private static final String[] LOCKS = {
            " ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED",
            " ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED",
            " ORDER BY shard LIMIT 1 FOR UPDATE",
    };

    private final String claimTable;
    private final String budgetTable;
    private final String tombstoneTable;
    private final String version;

    ClaimSql(MappingSettings mapping) {
        this.claimTable = mapping.claimTable();
        this.budgetTable = SchemaService.budgetTable(mapping);
        this.tombstoneTable = SchemaService.tombstoneTable(mapping);
        this.version = mapping.versionColumn();
    }

    /** The users' claims (last column 0), then the tombstone versions of their deleted keys (1). */
    String existingSql(long activity, Collection<Long> users) {
        StringBuilder in = new StringBuilder(users.size() * 10);
        String sep = "";
        for (long u : users) {
            in.append(sep).append(u);
            sep = ", ";
        }
        return "SELECT user_id, amount, status, request_id, " + version
                + ", CAST(UNIX_TIMESTAMP(updated_at) * 1000 AS SIGNED), 0 FROM " + claimTable
                + " WHERE activity_id = " + activity + " AND user_id IN (" + in
                + ") UNION ALL SELECT user_id, 0, '', '', version, 0, 1 FROM " + tombstoneTable
                + " WHERE activity_id = " + activity + " AND user_id IN (" + in + ')';
    }

    /** The read of existing claims, START TRANSACTION and the first shard pick. */
    String openingSql(Activity a, Collection<Long> users, int start) {
        return existingSql(a.id(), users) + ";START TRANSACTION;" + pickSql(a, List.of(), 0, start);
    }

    /**
     * A shard pick. 0 and 1 lock a shard with budget that no other transaction holds (SKIP
     * LOCKED), from start up and then below it, so concurrent groups spread over the shards.
     * 2 waits for a held one, scanning from the first shard: only a transaction that holds no
     * shard yet runs it, and only while committed budget is left, so waits cannot form a cycle
     * and a sold-out activity takes no lock at all. Shards already taken are left out: their
     * updates wait for the commit batch, and SKIP LOCKED does not skip this transaction's own locks.
     */
    String pickSql(Activity a, List<Shard> taken, int kind, int start) {
        long min = Math.max(1, a.allocation() == Allocation.FIXED ? a.fixedAmount() : 1);
        StringBuilder sql = new StringBuilder("SELECT shard, remaining_count, remaining_amount FROM ").append(budgetTable)
                .append(" WHERE activity_id = ").append(a.id()).append(" AND remaining_count > 0 AND remaining_amount >= ")
                .append(min);
        for (int i = 0; i < taken.size(); i++) {
            sql.append(i == 0 ? " AND shard NOT IN (" : ", ").append(taken.get(i).shard());
        }
        return sql.append(taken.isEmpty() ? "" : ")").append(PICKS[kind]).append(kind == 2 ? 0 : start)
                .append(LOCKS[kind]).toString();
    }

    /**
     * The one-round-trip batch of a fixed-allocation group (see {@link OneRoundTrip}): START
     * TRANSACTION, when timed the shard wait's start and probe (below), the guarded UPDATE of one shard, the wait's end, the INSERT that takes its activity id from that
     * shard's row, the tombstone versions of the users' keys (locked by the insert's trigger, so
     * what it started each row at), COMMIT, and, when timed, the shard wait.
     */
    String oneRoundTripSql(Activity a, Collection<Long> users, List<ClaimRow> rows, int shard, boolean timed) {
        int n = rows.size();
        long total = n * a.fixedAmount();
        StringBuilder sql = new StringBuilder(640 + 96 * n).append("START TRANSACTION;");
        if (timed) {
            sql.append(SHARD_WAIT_START).append(";SELECT 1 INTO @rpctl_shard_free FROM ").append(budgetTable)
                    .append(" WHERE activity_id = ").append(a.id()).append(" AND shard = ").append(shard)
                    .append(" FOR UPDATE SKIP LOCKED;");
        }
        sql.append("UPDATE ").append(budgetTable)
                .append(" SET remaining_count = remaining_count - ").append(n)
                .append(" + (SELECT 0 UNION ALL SELECT 0 FROM DUAL WHERE remaining_count < ").append(n)
                .append(" OR remaining_amount < ").append(total).append("), remaining_amount = remaining_amount - ")
                .append(total).append(", ").append(version).append(" = ").append(version)
                .append(" + 1 WHERE activity_id = ").append(a.id()).append(" AND shard = ").append(shard)
                .append(timed ? ";" + SHARD_WAIT_END : "").append(";INSERT INTO ").append(claimTable)
                .append(" (activity_id, user_id, amount, status, request_id, ").append(version)
                .append(", created_at, updated_at) SELECT b.activity_id, v.u, v.a, 'paid', v.r, 1, v.t, v.t FROM ")
                .append(budgetTable).append(" b JOIN (");
        for (int i = 0; i < n; i++) {
            ClaimRow r = rows.get(i);
            sql.append(i == 0 ? "SELECT " : " UNION ALL SELECT ").append(r.userId()).append(i == 0 ? " AS u, " : ", ")
                    .append(r.amount()).append(i == 0 ? " AS a, " : ", ").append(quoted(r.requestId()))
                    .append(i == 0 ? " AS r, '" : ", '").append(sqlMillis(r.updatedAtMillis())).append(i == 0 ? "' AS t" : "'");
        }
        sql.append(") v WHERE b.activity_id = ").append(a.id()).append(" AND b.shard = ").append(shard).append(';');
        return tombstoneRead(sql, a.id(), users).append(timed ? ";COMMIT;" + SHARD_WAIT_READ : ";COMMIT").toString();
    }

    /*
     * A timed one-round-trip batch measures the wait for its shard on the server (four statements
     * more, which cost a heavy load up to a sixth of its rate when every group was timed: only a
     * sample is, see ClaimStatsLog.times). Its UPDATE is the
     * only statement that can wait for a shard lock; a SKIP LOCKED read of the row just before it
     * takes the lock when the shard is free (then nothing waited) and sets nothing when another
     * transaction holds it, and then the time from that read to the UPDATE's end is the wait. A
     * timed UPDATE alone would count the time a busy server takes to run it as waiting. SYSDATE,
     * not NOW: the time it runs, whatever the server makes of a multi-statement's start time. The
     * variables stay on the connection, so a batch that failed is read after its ROLLBACK: with no
     * end time, the UPDATE was still waiting (a deadlock, a lock wait timeout) when it failed.
     */
    static final String SHARD_WAIT_START = "SET @rpctl_shard_t = SYSDATE(6), @rpctl_shard_e = NULL, @rpctl_shard_free = NULL";
    static final String SHARD_WAIT_END = "SET @rpctl_shard_e = SYSDATE(6)";
    static final String SHARD_WAIT_READ = "SELECT IF(@rpctl_shard_free IS NULL,"
            + " TIMESTAMPDIFF(MICROSECOND, @rpctl_shard_t, COALESCE(@rpctl_shard_e, SYSDATE(6))), 0)";

    /** The microseconds of a SHARD_WAIT_READ; 0 when it read nothing (no batch set the start on this connection). */
    static long readShardWait(ResultSet rs) throws SQLException {
        try (rs) {
            return rs.next() ? Math.max(0, rs.getLong(1)) : 0;
        }
    }

    /**
     * The tombstone versions of the users' keys, as a locking read: run after a group's INSERT,
     * whose trigger locked them, it reads the versions that trigger started the rows at.
     */
    private StringBuilder tombstoneRead(StringBuilder sql, long activity, Collection<Long> users) {
        sql.append("SELECT user_id, version FROM ").append(tombstoneTable).append(" WHERE activity_id = ").append(activity)
                .append(" AND user_id IN (");
        String sep = "";
        for (long u : users) {
            sql.append(sep).append(u);
            sep = ", ";
        }
        return sql.append(") FOR UPDATE");
    }

    /** The rows of a tombstoneRead, user id to version, into versions. */
    static void readTombstones(ResultSet rs, Map<Long, Long> versions) throws SQLException {
        try (rs) {
            while (rs.next()) {
                versions.put(rs.getLong(1), rs.getLong(2));
            }
        }
    }

    /**
     * UPDATE per shard taken, INSERT of the rows, the tombstone read of their keys, COMMIT; the
     * caller may append the next group's opening.
     */
    StringBuilder commitSql(Activity a, List<Shard> taken, List<ClaimRow> rows) {
        StringBuilder sql = new StringBuilder(256 + 96 * rows.size());
        for (Shard s : taken) {
            sql.append("UPDATE ").append(budgetTable).append(" SET remaining_count = ").append(s.count())
                    .append(", remaining_amount = ").append(s.amount()).append(", ").append(version).append(" = ")
                    .append(version).append(" + 1 WHERE activity_id = ").append(a.id()).append(" AND shard = ")
                    .append(s.shard()).append(';');
        }
        sql.append("INSERT INTO ").append(claimTable)
                .append(" (activity_id, user_id, amount, status, request_id, ").append(version)
                .append(", created_at, updated_at) VALUES ");
        for (int i = 0; i < rows.size(); i++) {
            ClaimRow r = rows.get(i);
            // the time as text: the column keeps its milliseconds whatever the server's version says
            sql.append(i == 0 ? "(" : ", (").append(r.activityId()).append(", ").append(r.userId()).append(", ")
                    .append(r.amount()).append(", 'paid', ").append(quoted(r.requestId())).append(", ")
                    .append(r.version()).append(", '");
            String ts = sqlMillis(r.updatedAtMillis());
            sql.append(ts).append("', '").append(ts).append("')");
        }
        List<Long> users = new ArrayList<>(rows.size());
        for (ClaimRow r : rows) {
            users.add(r.userId());
        }
        return tombstoneRead(sql.append(';'), a.id(), users).append(";COMMIT");
    }

    /** The results of openingSql, the statement standing on its first: existing claims, then the pick. */
    static Opening readOpening(Statement st, Activity a, int start) throws SQLException {
        Existing existing = readExisting(st.getResultSet(), a.id());
        return new Opening(existing, true, readShard(nextResultSet(st)), start);
    }

    static Existing readExisting(ResultSet rs, long activity) throws SQLException {
        List<ClaimRow> rows = new ArrayList<>();
        Map<Long, Long> tombstones = Map.of();
        try (rs) {
            while (rs.next()) {
                if (rs.getInt(7) == 1) {
                    if (tombstones.isEmpty()) {
                        tombstones = new HashMap<>();
                    }
                    tombstones.put(rs.getLong(1), rs.getLong(5));
                } else {
                    rows.add(new ClaimRow(activity, rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                            rs.getLong(5), rs.getLong(6)));
                }
            }
        }
        return new Existing(rows, tombstones);
    }

    static Shard readShard(ResultSet rs) throws SQLException {
        try (rs) {
            return rs.next() ? new Shard(rs.getInt(1), rs.getLong(2), rs.getLong(3)) : null;
        }
    }

    /** Moves past update counts (a START TRANSACTION's OK) to the next result set. */
    static ResultSet nextResultSet(Statement st) throws SQLException {
        while (!st.getMoreResults()) {
            if (st.getUpdateCount() == -1) {
                throw new SQLException("the server sent fewer results than the statements it was given");
            }
        }
        return st.getResultSet();
    }

    /**
     * A plain statement for the claim path's SQL, which carries its values as literals: numbers,
     * times formatted here and request ids checked by isRequestId. Prepared statements would
     * make the driver parse a different multi-statement text for every group size on every call.
     */
    static Statement statement(Connection c) throws SQLException {
        Statement st = c.createStatement();
        st.setEscapeProcessing(false);
        return st;
    }

    static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = statement(c)) {
            st.execute(sql);
        }
    }

    /** 0-64 characters of A-Z a-z 0-9 . _ : -, the only ones that can never need quoting in SQL. */
    static boolean isRequestId(String s) {
        if (s.length() > 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
                    || ch == '.' || ch == '_' || ch == ':' || ch == '-')) {
                return false;
            }
        }
        return true;
    }

    /** A request id as an SQL string literal; only the characters isRequestId allows ever get here. */
    static String quoted(String requestId) {
        if (!isRequestId(requestId)) {
            throw new IllegalArgumentException("request id outside [A-Za-z0-9._:-]{0,64}: " + requestId);
        }
        return "'" + requestId + "'";
    }

    /** The UTC time as yyyy-MM-dd HH:mm:ss.SSS, without a DateTimeFormatter (which cost more than the rest of a row). */
    static String sqlMillis(long epochMillis) {
        StringBuilder sb = new StringBuilder(23);
        long day = Math.floorDiv(epochMillis, 86_400_000L);
        int ms = (int) Math.floorMod(epochMillis, 86_400_000L);
        LocalDate d = LocalDate.ofEpochDay(day);
        int year = d.getYear();
        if (year < 1000 || year > 9999) {
            throw new IllegalArgumentException("time outside the years 1000-9999: " + epochMillis);
        }
        sb.append(year).append('-');
        two(sb, d.getMonthValue()).append('-');
        two(sb, d.getDayOfMonth()).append(' ');
        two(sb, ms / 3_600_000).append(':');
        two(sb, ms / 60_000 % 60).append(':');
        two(sb, ms / 1000 % 60).append('.');
        int frac = ms % 1000;
        sb.append((char) ('0' + frac / 100)).append((char) ('0' + frac / 10 % 10)).append((char) ('0' + frac % 10));
        return sb.toString();
    }

    private static StringBuilder two(StringBuilder sb, int v) {
        return sb.append((char) ('0' + v / 10)).append((char) ('0' + v % 10));
    }
}
