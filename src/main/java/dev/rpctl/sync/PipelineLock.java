package dev.rpctl.sync;

import dev.rpctl.db.Database;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Leadership of one pipeline: a MySQL named lock held on a connection of its own, outside the
 * pool, so that the lock lives exactly as long as this process's session does. A daemon killed
 * with -9 drops the session, and a standby's next poll gets the lock.
 */
final class PipelineLock implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PipelineLock.class);

    private final Database db;
    private final String lockName;
    private Connection connection;

    PipelineLock(Database db, String pipeline) {
        this.db = db;
        this.lockName = lockName(pipeline);
    }

    static String lockName(String pipeline) {
        return "rpctl.pipeline." + pipeline;
    }

    synchronized boolean tryAcquire() {
        try {
            if (connection == null || !connection.isValid(2)) {
                closeQuietly();
                connection = DriverManager.getConnection(db.jdbcUrl(true) + "&socketTimeout=10000",
                        db.settings().user(), db.settings().password());
            }
            try (PreparedStatement ps = connection.prepareStatement("SELECT GET_LOCK(?, 0)")) {
                ps.setString(1, lockName);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getInt(1) == 1;
                }
            }
        } catch (SQLException e) {
            closeQuietly();
            throw db.translate(e);
        }
    }

    /** Whether this session still holds the lock; false when the session is gone. */
    synchronized boolean held() {
        if (connection == null) {
            return false;
        }
        try (PreparedStatement ps = connection.prepareStatement("SELECT IS_USED_LOCK(?) = CONNECTION_ID()")) {
            ps.setString(1, lockName);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getInt(1) == 1;
            }
        } catch (SQLException e) {
            log.warn("pipeline lock {}: {}", lockName, e.getMessage());
            closeQuietly();
            return false;
        }
    }

    /** Who holds the lock, for the one line a second daemon prints. */
    String holder() {
        String sql = "SELECT p.id, p.host, p.user FROM information_schema.processlist p WHERE p.id = IS_USED_LOCK(?)";
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, lockName);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return "MySQL connection " + rs.getLong(1) + " from " + rs.getString(2) + " (user " + rs.getString(3) + ")";
                }
                return "a connection that is just going away";
            }
        } catch (SQLException e) {
            return "another session";
        }
    }

    private void closeQuietly() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // gone already
            }
            connection = null;
        }
    }

    @Override
    public synchronized void close() {
        if (connection != null) {
            try (PreparedStatement ps = connection.prepareStatement("SELECT RELEASE_LOCK(?)")) {
                ps.setString(1, lockName);
                ps.execute();
            } catch (SQLException ignored) {
                // closing the session releases it anyway
            }
        }
        closeQuietly();
    }
}
