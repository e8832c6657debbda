package dev.rpctl.sync;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.config.MappingSettings;
import dev.rpctl.db.Database;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The SQL of the pipelines: checkpoints, heartbeats, the server's binlog files and table shapes. */
public final class SyncRepository {

    /**
     * One saved checkpoint, how long ago it was saved by the server's clock (-1: unknown), the
     * write time of the newest heartbeat applied by then (0: none yet) and the pipeline's lag
     * when it saved (-1: none yet); the daemon that saved it last, as host:pid ("" before this
     * rpctl recorded it), and the MySQL connection id of its lock session (null: not recorded).
     */
    public record Checkpoint(String pipeline, BinlogPosition position, long ageMillis, long appliedBeatMillis,
                             long lagMillis, String leader, Long leaderConnection) {}

    /** One binlog file the server still has. */
    public record BinaryLog(String name, long size) {}

    private final Database db;
    private final MappingSettings mapping;

    public SyncRepository(Database db, MappingSettings mapping) {
        this.db = db;
        this.mapping = mapping;
    }

    public Database database() {
        return db;
    }

    public Optional<BinlogPosition> load(String pipeline) {
        return checkpoints().stream().filter(c -> c.pipeline().equals(pipeline)).findFirst().map(Checkpoint::position);
    }

    public List<Checkpoint> checkpoints() {
        String sql = "SELECT pipeline, binlog_file, binlog_position, gtid,"
                + " TIMESTAMPDIFF(MICROSECOND, updated_at, NOW(3)) DIV 1000, applied_beat_millis, lag_millis, leader,"
                + " leader_connection FROM "
                + mapping.checkpointTable() + " ORDER BY pipeline";
        List<Checkpoint> out = new ArrayList<>();
        try (Connection c = db.connection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                long age = rs.getLong(5);
                boolean ageKnown = !rs.wasNull();
                long connection = rs.getLong(9);
                Long leaderConnection = rs.wasNull() ? null : connection;
                out.add(new Checkpoint(rs.getString(1), new BinlogPosition(rs.getString(2), rs.getLong(3), rs.getString(4)),
                        ageKnown ? Math.max(0, age) : -1, rs.getLong(6), rs.getLong(7), rs.getString(8), leaderConnection));
            }
        } catch (SQLException e) {
            throw db.translate(e);
        }
        return out;
    }

    /**
     * Saves a checkpoint unfenced, with no heartbeat information: for a pipeline no daemon runs
     * (a reset). A leading daemon saves through {@link #saveFenced}.
     */
    public void save(String pipeline, BinlogPosition p) {
        save(pipeline, p, 0, -1);
    }

    /** As {@link #save(String, BinlogPosition)}, with the lag figures. */
    public void save(String pipeline, BinlogPosition p, long appliedBeatMillis, long lagMillis) {
        String sql = "INSERT INTO " + mapping.checkpointTable()
                + " (pipeline, binlog_file, binlog_position, gtid, applied_beat_millis, lag_millis, updated_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP(3))"
                + " ON DUPLICATE KEY UPDATE binlog_file = VALUES(binlog_file), binlog_position = VALUES(binlog_position),"
                + " gtid = VALUES(gtid), applied_beat_millis = VALUES(applied_beat_millis), lag_millis = VALUES(lag_millis),"
                + " updated_at = CURRENT_TIMESTAMP(3)";
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, pipeline);
            ps.setString(2, p.file());
            ps.setLong(3, p.position());
            ps.setString(4, p.gtid());
            ps.setLong(5, appliedBeatMillis);
            ps.setLong(6, lagMillis);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /**
     * Saves a leader's checkpoint on its lock session {@code lockSession}, only while that session
     * holds the named lock {@code lock}: the condition is part of the statement, so a leader whose
     * lock has passed to another daemon cannot overwrite the new leader's checkpoint, whatever it
     * has not noticed yet. Records {@code leader} (host:pid) and the session's connection id.
     *
     * @return false when the session no longer holds the lock; nothing was written
     * @throws SQLException as the session's driver throws it (a killed session included)
     */
    boolean saveFenced(Connection lockSession, String lock, String pipeline, String leader, BinlogPosition p,
                       long appliedBeatMillis, long lagMillis) throws SQLException {
        String sql = "INSERT INTO " + mapping.checkpointTable()
                + " (pipeline, binlog_file, binlog_position, gtid, applied_beat_millis, lag_millis, leader, leader_connection,"
                + " updated_at) SELECT ?, ?, ?, ?, ?, ?, ?, CONNECTION_ID(), CURRENT_TIMESTAMP(3) FROM DUAL"
                + " WHERE IS_USED_LOCK(?) = CONNECTION_ID()"
                + " ON DUPLICATE KEY UPDATE binlog_file = VALUES(binlog_file), binlog_position = VALUES(binlog_position),"
                + " gtid = VALUES(gtid), applied_beat_millis = VALUES(applied_beat_millis), lag_millis = VALUES(lag_millis),"
                + " leader = VALUES(leader), leader_connection = VALUES(leader_connection), updated_at = CURRENT_TIMESTAMP(3)";
        try (PreparedStatement ps = lockSession.prepareStatement(sql)) {
            ps.setString(1, pipeline);
            ps.setString(2, p.file());
            ps.setLong(3, p.position());
            ps.setString(4, p.gtid());
            ps.setLong(5, appliedBeatMillis);
            ps.setLong(6, lagMillis);
            ps.setString(7, leader);
            ps.setString(8, lock);
            return ps.executeUpdate() > 0;
        }
    }

    /**
     * Records a new leader in its pipeline's checkpoint row, if there is one, without moving the
     * checkpoint or its age; fenced as {@link #saveFenced} is.
     */
    void claimLeadership(Connection lockSession, String lock, String pipeline, String leader) throws SQLException {
        String sql = "UPDATE " + mapping.checkpointTable() + " SET leader = ?, leader_connection = CONNECTION_ID(),"
                + " updated_at = updated_at WHERE pipeline = ? AND IS_USED_LOCK(?) = CONNECTION_ID()";
        try (PreparedStatement ps = lockSession.prepareStatement(sql)) {
            ps.setString(1, leader);
            ps.setString(2, pipeline);
            ps.setString(3, lock);
            ps.executeUpdate();
        }
    }

    public void beat(String pipeline, long millis) {
        String sql = "INSERT INTO " + mapping.heartbeatTable() + " (pipeline, beat_millis) VALUES (?, ?)"
                + " ON DUPLICATE KEY UPDATE beat_millis = VALUES(beat_millis)";
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, pipeline);
            ps.setLong(2, millis);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /** Heartbeat millis by pipeline. */
    public java.util.Map<String, Long> heartbeats() {
        java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
        try (Connection c = db.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pipeline, beat_millis FROM " + mapping.heartbeatTable())) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        } catch (SQLException e) {
            throw db.translate(e);
        }
        return out;
    }

    /** Where the server's binlog ends now, with its GTID position. */
    public BinlogPosition serverNow() {
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            String file;
            long pos;
            try (ResultSet rs = st.executeQuery("SHOW MASTER STATUS")) {
                if (!rs.next()) {
                    throw new RpctlException(ExitCode.CONFIG, db.role() + " at " + db.address()
                            + " has no binary log; start it with log-bin and binlog-format=ROW");
                }
                file = rs.getString(1);
                pos = rs.getLong(2);
            }
            return new BinlogPosition(file, pos, gtid(st));
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /** The server's binlog as the pipelines need it: on, in ROW format, with FULL row images. */
    public record BinlogSettings(boolean on, String format, String rowImage) {
        public boolean usable() {
            return on && "ROW".equalsIgnoreCase(format) && "FULL".equalsIgnoreCase(rowImage);
        }
    }

    public BinlogSettings binlogSettings() {
        try (Connection c = db.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT @@global.log_bin, @@global.binlog_format, @@global.binlog_row_image")) {
            rs.next();
            return new BinlogSettings(rs.getBoolean(1), rs.getString(2), rs.getString(3));
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /**
     * Refuses a server whose binlog cannot feed the pipelines: rows must be logged as row images
     * with every column, or an update would arrive without the columns a cache entry is made of,
     * and not inside compressed transactions (MySQL 8), whose rows the reader does not unpack.
     * Where the server has {@code binlog_row_metadata}, it must be FULL: the events then carry the
     * column names they were written with, and a backlog across an ALTER TABLE that renames or
     * reorders columns is read right; the schema as it is now would put values under wrong names.
     *
     * @return true when the events carry column names; false on a server without the setting
     *         (MySQL 5.7, MariaDB before 10.5), whose names come from information_schema
     */
    public boolean requireUsableBinlog() {
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT @@global.binlog_format, @@global.binlog_row_image, @@global.log_bin")) {
                rs.next();
                String format = rs.getString(1);
                String image = rs.getString(2);
                if (!rs.getBoolean(3) || !"ROW".equalsIgnoreCase(format) || !"FULL".equalsIgnoreCase(image)) {
                    throw new RpctlException(ExitCode.CONFIG, db.role() + " at " + db.address() + " logs binlog_format="
                            + format + ", binlog_row_image=" + image + ", log_bin=" + rs.getString(3)
                            + "; the sync daemon needs log_bin on, binlog_format=ROW and binlog_row_image=FULL");
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT @@global.binlog_transaction_compression")) {
                if (rs.next() && rs.getBoolean(1)) {
                    throw new RpctlException(ExitCode.CONFIG, db.role() + " at " + db.address()
                            + " compresses its binlog transactions; the sync daemon needs binlog_transaction_compression=OFF");
                }
            } catch (SQLException notMysql8) {
                // MariaDB and older MySQL have no such setting and never compress
            }
            String metadata;
            try (ResultSet rs = st.executeQuery("SELECT @@global.binlog_row_metadata")) {
                rs.next();
                metadata = rs.getString(1);
            } catch (SQLException tooOld) {
                return false;
            }
            if (!"FULL".equalsIgnoreCase(metadata)) {
                throw new RpctlException(ExitCode.CONFIG, db.role() + " at " + db.address() + " logs binlog_row_metadata="
                        + metadata + "; the sync daemon needs binlog_row_metadata=FULL (SET GLOBAL binlog_row_metadata=FULL"
                        + " and binlog-row-metadata=FULL in the server's configuration), or a backlog across an ALTER TABLE"
                        + " puts values under the wrong columns");
            }
            return true;
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /** MariaDB's GTID position, or MySQL's executed set where gtid_mode is ON; empty without GTIDs. */
    private static String gtid(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT @@gtid_binlog_pos")) {
            return rs.next() && rs.getString(1) != null ? rs.getString(1) : "";
        } catch (SQLException notMariadb) {
            // MySQL: no such variable
        }
        try (ResultSet rs = st.executeQuery("SELECT IF(@@global.gtid_mode = 'ON', @@global.gtid_executed, '')")) {
            return rs.next() && rs.getString(1) != null ? rs.getString(1).replaceAll("\\s", "") : "";
        } catch (SQLException noGtids) {
            return "";
        }
    }

    public List<BinaryLog> binaryLogs() {
        List<BinaryLog> out = new ArrayList<>();
        try (Connection c = db.connection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW BINARY LOGS")) {
            while (rs.next()) {
                out.add(new BinaryLog(rs.getString(1), rs.getLong(2)));
            }
        } catch (SQLException e) {
            throw db.translate(e);
        }
        return out;
    }

    /** Column names of a table of the configured database, in order. */
    public List<String> columns(String table) {
        String sql = "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?"
                + " ORDER BY ordinal_position";
        List<String> out = new ArrayList<>();
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            throw db.translate(e);
        }
        if (out.isEmpty()) {
            // the binlog names a table the schema lacks: an rpctl table from a newer release (the heartbeat)
            throw new RpctlException(ExitCode.CONFIG, db.role() + " at " + db.address() + ": table " + table
                    + " does not exist; the schema is older than this rpctl: run 'rpctl db init'");
        }
        return out;
    }

    /** The client host:port of a MySQL connection, or null when it is gone. */
    public String connectionHost(long id) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT host FROM information_schema.processlist WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /** Deletes a pipeline's checkpoint and heartbeat rows; whether it had a checkpoint. */
    public boolean forget(String pipeline) {
        try (Connection c = db.connection();
             PreparedStatement cp = c.prepareStatement("DELETE FROM " + mapping.checkpointTable() + " WHERE pipeline = ?");
             PreparedStatement hb = c.prepareStatement("DELETE FROM " + mapping.heartbeatTable() + " WHERE pipeline = ?")) {
            cp.setString(1, pipeline);
            hb.setString(1, pipeline);
            int n = cp.executeUpdate();
            hb.executeUpdate();
            return n > 0;
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /** The MySQL connection id holding a named lock, or null. */
    public Long lockHolder(String lock) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement("SELECT IS_USED_LOCK(?)")) {
            ps.setString(1, lock);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long id = rs.getLong(1);
                return rs.wasNull() ? null : id;
            }
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }
}
