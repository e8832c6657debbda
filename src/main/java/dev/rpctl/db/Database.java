package dev.rpctl.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.config.MysqlSettings;
import dev.rpctl.config.TlsVerify;
import dev.rpctl.tls.Tls;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.Properties;

/** The connection pool to one MySQL server (the primary, or the replica). */
public final class Database implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Database.class);
    private static final int ER_NO_SUCH_TABLE = 1146;
    private static final int ER_BAD_FIELD_ERROR = 1054;
    private static final int ER_DBACCESS_DENIED = 1044;
    private static final int ER_ACCESS_DENIED = 1045;
    private static final int ER_BAD_DB_ERROR = 1049;
    private static final int ER_NO_BINARY_LOGGING = 1381;
    private static final int ER_DATA_TOO_LONG = 1406;
    private static final int ER_ACCESS_DENIED_NO_PASSWORD = 1698;
    /** A privilege missing: on a table (1142), a column (1143), or a global one such as REPLICATION CLIENT (1227). */
    public static final int ER_TABLEACCESS_DENIED = 1142;
    public static final int ER_COLUMNACCESS_DENIED = 1143;
    public static final int ER_SPECIFIC_ACCESS_DENIED = 1227;
    // "Cannot execute statement: impossible to write to binary log since ..." (binlog_format=STATEMENT or MIXED)
    private static final int ER_BINLOG_UNSAFE_FIRST = 1661;
    private static final int ER_BINLOG_UNSAFE_LAST = 1666;

    private final MysqlSettings settings;
    private final String role;
    private final JdbcTls tls;
    private volatile HikariDataSource pool;

    public Database(MysqlSettings settings, String role) {
        this.settings = settings;
        this.role = role;
        this.tls = new JdbcTls(settings.tls());
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

    /** JDBC URL without credentials; its TLS stores are in {@link #connect}'s properties. */
    public String jdbcUrl(boolean withDatabase) {
        long connectMs = settings.connectTimeout().toMillis();
        return "jdbc:mysql://" + settings.host() + ":" + settings.port() + "/"
                + (withDatabase ? settings.database() : "")
                + "?connectTimeout=" + connectMs
                + "&sslMode=" + tls.sslMode()
                + "&allowPublicKeyRetrieval=true"
                + "&rewriteBatchedStatements=true"
                // claims send a transaction's last statements and its commit in one round trip
                + "&allowMultiQueries=true"
                + "&cachePrepStmts=true&prepStmtCacheSize=256&useServerPrepStmts=false"
                + "&useLocalSessionState=true&elideSetAutoCommits=true"
                + "&connectionTimeZone=UTC&forceConnectionTimeZoneToSession=true"
                + "&tcpKeepAlive=true"
                // -vv: the driver logs every statement and its time (logger "MySQL")
                + (LOG.isDebugEnabled() ? "&logger=Slf4JLogger&profileSQL=true" : "");
    }

    /**
     * A connection of its own, outside the pool, with the pool's login and TLS settings, for a
     * session that holds a named lock; {@code urlOptions} are added to the URL ({@code &x=y}).
     */
    public Connection connect(String urlOptions) {
        Properties p = tls.properties();
        p.setProperty("user", settings.user());
        p.setProperty("password", settings.password());
        try {
            return DriverManager.getConnection(jdbcUrl(true) + urlOptions, p);
        } catch (SQLException e) {
            throw translate(e);
        }
    }

    public Connection connection() {
        try {
            if (LOG.isTraceEnabled()) {
                long start = System.nanoTime();
                Connection c = pool().getConnection();
                LOG.trace("{}: connection from the pool in {} us", role, (System.nanoTime() - start) / 1000);
                return c;
            }
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
        hc.setDataSourceProperties(tls.properties());
        hc.setUsername(settings.user());
        hc.setPassword(settings.password());
        hc.setMaximumPoolSize(settings.poolSize());
        // one connection made at start (a server that is down fails the command at once); the rest as
        // work asks for them, so a one-shot command does not open a second one it never uses
        hc.setMinimumIdle(1);
        hc.setConnectionTimeout(Math.max(250, settings.connectTimeout().toMillis()));
        // fail at once when the server is down, instead of retrying for the connection timeout
        hc.setInitializationFailTimeout(1);
        hc.setAutoCommit(true);
        // read committed takes no gap locks: concurrent claims insert side by side without deadlocks
        hc.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        long start = System.nanoTime();
        LOG.info("{} at {}: connecting as {} to database {} (pool of up to {}, connect timeout {} ms{})", role, address(),
                settings.user(), settings.database(), settings.poolSize(), settings.connectTimeout().toMillis(),
                settings.tls().on() ? ", " + settings.tls().describe() : "");
        if (settings.tls().on() && settings.tls().verify() == TlsVerify.NONE) {
            LOG.warn("{} at {}: mysql.tls-verify is none: the link is encrypted but the server's certificate is not"
                    + " checked, so anyone in the middle is accepted", role, address());
        }
        try {
            HikariDataSource ds = new HikariDataSource(hc);
            LOG.info("{} at {}: connected in {} ms", role, address(), (System.nanoTime() - start) / 1_000_000);
            return ds;
        } catch (HikariPool.PoolInitializationException e) {
            throw translate(e);
        }
    }

    /**
     * Turns a driver failure into the operator's view: a server that is down is exit 69; a login
     * the server refuses, a schema older than rpctl and a binlog rpctl cannot work with are
     * configuration problems (78); a value too long for its column is a usage error (64). What is
     * left is a statement that failed on a working server: a bug (70).
     */
    /** The named global status counters (SHOW GLOBAL STATUS) that the server has, by name. */
    public Map<String, Long> globalStatus(List<String> names) {
        Map<String, Long> out = new java.util.HashMap<>();
        try (Connection c = connection(); java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SHOW GLOBAL STATUS WHERE Variable_name IN ('"
                     + String.join("', '", names) + "')")) {
            while (rs.next()) {
                try {
                    out.put(rs.getString(1), Long.parseLong(rs.getString(2)));
                } catch (NumberFormatException ignored) {
                    // not a counter
                }
            }
        } catch (java.sql.SQLException e) {
            throw translate(e);
        }
        return out;
    }

    /** The server's version, as SELECT VERSION() gives it. */
    public String serverVersion() {
        try (Connection c = connection(); java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT VERSION()")) {
            rs.next();
            return rs.getString(1);
        } catch (java.sql.SQLException e) {
            throw translate(e);
        }
    }

    public RuntimeException translate(Exception e) {
        SQLException server = serverError(e);
        int code = server == null ? 0 : server.getErrorCode();
        String said = server == null ? "" : RpctlException.oneLine(server.getMessage());
        String at = role + " at " + address();
        String keys = role.contains("replica") ? "replica" : "mysql";
        RpctlException tlsRefused = Tls.refused(settings.tls(), role, address(), e);
        if (tlsRefused != null) {
            return tlsRefused;
        }
        if (code == ER_ACCESS_DENIED || code == ER_DBACCESS_DENIED || code == ER_ACCESS_DENIED_NO_PASSWORD
                || (server != null && "28000".equals(server.getSQLState()))) {
            return new RpctlException(ExitCode.CONFIG, at + ": login refused for user '" + settings.user() + "' (" + said
                    + "); check " + keys + ".user and " + keys + ".password", e);
        }
        if (code == ER_TABLEACCESS_DENIED || code == ER_COLUMNACCESS_DENIED || code == ER_SPECIFIC_ACCESS_DENIED) {
            return denied(at, settings.user(), said, e);
        }
        if (code == ER_BAD_DB_ERROR) {
            return new RpctlException(ExitCode.CONFIG, at + ": database '" + settings.database()
                    + "' does not exist; create it or fix mysql.database", e);
        }
        if (isConnectionFailure(e)) {
            return RpctlException.unavailable(role, address(), e);
        }
        if (e instanceof RuntimeException re) {
            return re;
        }
        if (code == ER_NO_SUCH_TABLE || code == ER_BAD_FIELD_ERROR) {
            return new RpctlException(ExitCode.CONFIG, at + ": " + said
                    + "; the schema is older than this rpctl (run 'rpctl db init'), or a mapping.* setting names"
                    + " a table or column that is not there", e);
        }
        if (code == ER_NO_BINARY_LOGGING) {
            return new RpctlException(ExitCode.CONFIG, at + " has the binary log off; start it with log-bin,"
                    + " binlog-format=ROW and binlog-row-image=FULL", e);
        }
        if (code >= ER_BINLOG_UNSAFE_FIRST && code <= ER_BINLOG_UNSAFE_LAST) {
            return new RpctlException(ExitCode.CONFIG, at + " refuses to log the statement (" + said
                    + "); rpctl needs binlog_format=ROW: SET GLOBAL binlog_format=ROW and binlog-format=ROW in the"
                    + " server's configuration", e);
        }
        if (code == ER_DATA_TOO_LONG || (server != null && "22001".equals(server.getSQLState()))) {
            return RpctlException.usage(at + ": a value is too long for its column (" + said + ")");
        }
        return new DatabaseException(at + ": " + RpctlException.rootMessage(e), e);
    }

    /** A privilege the user lacks, as exit 77 with the server's words, which name the privilege and the table. */
    public static RpctlException denied(String at, String user, String serverSaid, Throwable cause) {
        return new RpctlException(ExitCode.NOPERM, at + ": user '" + user + "' lacks a privilege (" + serverSaid
                + "); grant it: README 'Security' lists the grants of each command", cause);
    }

    /** The first error the server itself sent back in a chain of causes, or null. */
    private static SQLException serverError(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException se && se.getErrorCode() > 0) {
                return se;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
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
        tls.close();
    }
}
