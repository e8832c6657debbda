package dev.rpctl.sync;

import dev.rpctl.binlog.BinlogPosition;
import dev.rpctl.db.Database;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Leadership of one pipeline: a MySQL named lock held on a connection of its own, outside the
 * pool, so that the lock lives exactly as long as this process's session does. A daemon killed
 * with -9 drops the session, and a standby's next poll gets the lock.
 * <p>
 * The session also fences the leader's writes to MySQL: every checkpoint save runs on it with
 * "this session holds the lock" in the statement itself ({@link #save}), so a leader whose session
 * was killed while its process lives cannot save over the next leader's checkpoint, and learns
 * from the refused save that it must step down.
 */
final class PipelineLock implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PipelineLock.class);

    /** This process as the checkpoint rows and 'rpctl status' name it: host:pid. */
    static final String PROCESS = host() + ":" + ProcessHandle.current().pid();

    private final SyncRepository repo;
    private final Database db;
    private final String pipeline;
    private final String lockName;
    private Connection connection;
    private long session;
    private int slot = -1;

    /**
     * Binlog server ids a server's rpctl readers take from: sync.server-id-base + 0..SLOTS-1, each
     * held as a named lock on the lock session, so that two readers never share one and the range
     * replicas must avoid is small and fixed.
     */
    static final int SLOTS = 64;

    PipelineLock(SyncRepository repo, String pipeline) {
        this.repo = repo;
        this.db = repo.database();
        this.pipeline = pipeline;
        this.lockName = lockName(pipeline);
    }

    static String lockName(String pipeline) {
        return "rpctl.pipeline." + pipeline;
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            String env = System.getenv("HOSTNAME");
            return env == null || env.isBlank() ? "localhost" : env;
        }
    }

    /** Takes the lock if it is free, and records this process as the pipeline's leader. */
    synchronized boolean tryAcquire() {
        try {
            if (connection == null || !connection.isValid(2)) {
                closeQuietly();
                connection = db.connect("&socketTimeout=10000");
                try (PreparedStatement ps = connection.prepareStatement("SELECT CONNECTION_ID()");
                     ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    session = rs.getLong(1);
                }
            }
            try (PreparedStatement ps = connection.prepareStatement("SELECT GET_LOCK(?, 0)")) {
                ps.setString(1, lockName);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || rs.getInt(1) != 1) {
                        return false;
                    }
                }
            }
            slot = takeSlot();
            repo.claimLeadership(connection, lockName, pipeline, PROCESS);
            return true;
        } catch (SQLException e) {
            closeQuietly();
            throw db.translate(e);
        }
    }

    /**
     * The first free server-id slot, held by a named lock on this session as long as it lives (a
     * lock this session already holds is given again: GET_LOCK is re-entrant).
     */
    private int takeSlot() throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("SELECT GET_LOCK(?, 0)")) {
            for (int k = 0; k < SLOTS; k++) {
                ps.setString(1, "rpctl.server-id." + k);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getInt(1) == 1) {
                        return k;
                    }
                }
            }
        }
        try (PreparedStatement ps = connection.prepareStatement("SELECT RELEASE_LOCK(?)")) {
            ps.setString(1, lockName);
            ps.executeQuery().close();
        }
        throw new dev.rpctl.errors.RpctlException(dev.rpctl.errors.ExitCode.CONFIG, "pipeline " + pipeline + ": all "
                + SLOTS + " binlog server ids from sync.server-id-base are taken by other rpctl readers of this server;"
                + " stop some, or give this daemon another sync.server-id-base", null);
    }

    /** The server-id slot this session holds (0..SLOTS-1), -1 before the lock was taken. */
    synchronized int slot() {
        return slot;
    }

    /** The MySQL connection id of the lock's session: unique among the server's live sessions. */
    synchronized long session() {
        return session;
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
            log.warn("pipeline {}: lock {}: {}", pipeline, lockName, e.getMessage());
            closeQuietly();
            return false;
        }
    }

    /**
     * Saves the pipeline's checkpoint if, and only if, this session still holds the lock; false
     * when it does not (or the session is gone), and nothing was written.
     */
    synchronized boolean save(BinlogPosition p, long appliedBeatMillis, long lagMillis) {
        if (connection == null) {
            return false;
        }
        try {
            return repo.saveFenced(connection, lockName, pipeline, PROCESS, p, appliedBeatMillis, lagMillis);
        } catch (SQLException e) {
            log.warn("pipeline {}: saving the checkpoint on the lock's session failed: {}", pipeline, e.getMessage());
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
                    long id = rs.getLong(1);
                    String process = repo.checkpoints().stream()
                            .filter(cp -> cp.pipeline().equals(pipeline) && Long.valueOf(id).equals(cp.leaderConnection()))
                            .map(cp -> cp.leader() + ", ").findFirst().orElse("");
                    return process + "MySQL connection " + id + " from " + rs.getString(2) + " (user " + rs.getString(3) + ")";
                }
                return "a connection that is just going away";
            }
        } catch (RuntimeException | SQLException e) {
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
