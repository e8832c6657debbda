package dev.rpctl.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import dev.rpctl.ExitCode;
import dev.rpctl.RpctlException;
import dev.rpctl.config.MysqlSettings;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;

/** The connection pool to one MySQL server (the primary, or the replica). */
public final class Database implements AutoCloseable {
    private static final int ER_NO_SUCH_TABLE = 1146;
    private static final int ER_BAD_FIELD_ERROR = 1054;

    private final MysqlSettings settings;
    private final String role;
    private volatile HikariDataSource pool;

    public Database(MysqlSettings settings, String role) {
        this.settings = settings;
        this.role = role;
    }

    public MysqlSettings settings() {
        return settings;
    }

    /** "mysql primary" or "mysql replica", for messages. */
    public String role() {
        return role;
    }

    public String address() {
        return settings.address();
    }

    /** JDBC URL without credentials. */
    public String jdbcUrl(boolean withDatabase) {
        long connectMs = settings.connectTimeout().toMillis();
        return "jdbc:mysql://" + settings.host() + ":" + settings.port() + "/"
                + (withDatabase ? settings.database() : "")
                + "?connectTimeout=" + connectMs
                + "&sslMode=" + (settings.tls() ? "REQUIRED" : "DISABLED")
                + "&allowPublicKeyRetrieval=true"
                + "&rewriteBatchedStatements=true"
                // claims send a transaction's last statements and its commit in one round trip
                + "&allowMultiQueries=true"
                + "&cachePrepStmts=true&prepStmtCacheSize=256&useServerPrepStmts=false"
                + "&useLocalSessionState=true&elideSetAutoCommits=true"
                + "&connectionTimeZone=UTC&forceConnectionTimeZoneToSession=true"
                + "&tcpKeepAlive=true";
    }

    public Connection connection() {
        try {
            return pool().getConnection();
        } catch (SQLException e) {
            throw translate(e);
        }
    }

    /** Drops a connection from the pool for good (closing it), when its state is unknown. */
    public void evict(Connection c) {
        HikariDataSource p = pool;
        if (p != null) {
            p.evictConnection(c);
        }
    }

    private HikariDataSource pool() {
        HikariDataSource p = pool;
        if (p == null) {
            synchronized (this) {
                if (pool == null) {
                    pool = open();
                }
                p = pool;
            }
        }
        return p;
    }

    private HikariDataSource open() {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("rpctl-" + role.replace(' ', '-'));
        hc.setJdbcUrl(jdbcUrl(true));
        hc.setUsername(settings.user());
        hc.setPassword(settings.password());
        hc.setMaximumPoolSize(settings.poolSize());
        hc.setMinimumIdle(Math.min(2, settings.poolSize()));
        hc.setConnectionTimeout(Math.max(250, settings.connectTimeout().toMillis()));
        // fail at once when the server is down, instead of retrying for the connection timeout
        hc.setInitializationFailTimeout(1);
        hc.setAutoCommit(true);
        // read committed takes no gap locks: concurrent claims insert side by side without deadlocks
        hc.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        try {
            return new HikariDataSource(hc);
        } catch (HikariPool.PoolInitializationException e) {
            throw translate(e);
        }
    }

    /** Turns a driver failure into the operator's view: a server that is down is exit 69. */
    public RuntimeException translate(Exception e) {
        if (isConnectionFailure(e)) {
            return RpctlException.unavailable(role, address(), e);
        }
        if (e instanceof RuntimeException re) {
            return re;
        }
        if (e instanceof SQLException se && (se.getErrorCode() == ER_NO_SUCH_TABLE || se.getErrorCode() == ER_BAD_FIELD_ERROR)) {
            return new RpctlException(ExitCode.CONFIG, role + " at " + address() + ": " + se.getMessage()
                    + "; check the table and column names of the mapping.* settings, or, if the schema is older"
                    + " than this rpctl, run 'rpctl db init'", e);
        }
        return new DatabaseException(role + " at " + address() + ": " + RpctlException.rootMessage(e), e);
    }

    static boolean isConnectionFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLNonTransientConnectionException
                    || t instanceof SQLTransientConnectionException
                    || t instanceof java.net.ConnectException
                    || t instanceof java.net.UnknownHostException
                    || t instanceof java.net.SocketTimeoutException
                    || t instanceof HikariPool.PoolInitializationException
                    || t.getClass().getName().endsWith("CommunicationsException")) {
                return true;
            }
            if (t instanceof SQLException se && "08".equals(prefix(se.getSQLState()))) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static String prefix(String state) {
        return state == null || state.length() < 2 ? "" : state.substring(0, 2);
    }

    @Override
    public void close() {
        HikariDataSource p = pool;
        if (p != null) {
            p.close();
        }
    }
}
