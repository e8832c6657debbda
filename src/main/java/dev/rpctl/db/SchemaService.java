package dev.rpctl.db;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.config.MappingSettings;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Creates or upgrades the schema. Idempotent: a table that exists gets only the columns and
 * indexes it lacks, so running it twice changes nothing the second time.
 */
public final class SchemaService {

    record Column(String name, String ddl) {}

    record Index(String name, String ddl) {}

    record Table(String name, List<Column> columns, String primaryKey, List<Index> indexes) {
        String createSql() {
            StringBuilder sb = new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(name).append(" (\n");
            for (Column c : columns) {
                sb.append("  ").append(c.name()).append(' ').append(c.ddl()).append(",\n");
            }
            sb.append("  PRIMARY KEY (").append(primaryKey).append(')');
            for (Index i : indexes) {
                sb.append(",\n  KEY ").append(i.name()).append(" (").append(i.ddl()).append(')');
            }
            return sb.append("\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4").toString();
        }
    }

    /** Where each reconcile scope got to, for --resume. */
    public static final String RECONCILE_TABLE = "rpctl_reconcile";

    /**
     * What the claims of each activity cost, a row a minute (the server's UTC minute): claim
     * processes add their counts every few seconds, 'activity show' sums the last minutes.
     */
    public static final String CLAIM_STATS_TABLE = "rpctl_claim_stats";

    /** A trigger of the claim table: its name and everything after "CREATE TRIGGER name". */
    record Trigger(String name, String definition) {}

    /** One line of the report: table, what was done. */
    public record Change(String table, String action) {}

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SchemaService.class);
    private static final int ER_NO_SUCH_TABLE = 1146;
    /** ER_BINLOG_CREATE_ROUTINE_NEED_SUPER and ER_TABLEACCESS_DENIED_ERROR: not allowed to create a trigger. */
    private static final int ER_NEED_SUPER = 1419;
    private static final int ER_ACCESS_DENIED = 1142;

    private final Database db;
    private final MappingSettings mapping;
    private final List<Table> tables;
    private final List<Trigger> triggers;

    public SchemaService(Database db, MappingSettings mapping) {
        this.db = db;
        this.mapping = mapping;
        this.tables = tables(mapping);
        this.triggers = triggers(mapping);
    }

    static List<Table> tables(MappingSettings m) {
        String v = m.versionColumn();
        return List.of(
                new Table(m.activityTable(), List.of(
                        new Column("activity_id", "BIGINT NOT NULL"),
                        new Column("name", "VARCHAR(128) NOT NULL DEFAULT ''"),
                        new Column("total_count", "INT NOT NULL"),
                        new Column("total_amount", "BIGINT NOT NULL"),
                        new Column("allocation", "VARCHAR(16) NOT NULL DEFAULT 'fixed'"),
                        new Column("status", "VARCHAR(16) NOT NULL DEFAULT 'open'"),
                        new Column("starts_at", "DATETIME(3) NULL"),
                        new Column("ends_at", "DATETIME(3) NULL"),
                        new Column("budget_shards", "INT NOT NULL DEFAULT 1"),
                        new Column(v, "BIGINT NOT NULL DEFAULT 1"),
                        new Column("created_at", "DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"),
                        new Column("updated_at", "DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)")),
                        "activity_id", List.of()),
                // the remaining budget, split into shards so that claims do not all queue on one row lock
                new Table(budgetTable(m), List.of(
                        new Column("activity_id", "BIGINT NOT NULL"),
                        new Column("shard", "INT NOT NULL"),
                        new Column("remaining_count", "INT NOT NULL"),
                        new Column("remaining_amount", "BIGINT NOT NULL"),
                        new Column(v, "BIGINT NOT NULL DEFAULT 1")),
                        "activity_id, shard", List.of()),
                new Table(m.claimTable(), List.of(
                        new Column("activity_id", "BIGINT NOT NULL"),
                        new Column("user_id", "BIGINT NOT NULL"),
                        new Column("amount", "BIGINT NOT NULL"),
                        new Column("status", "VARCHAR(16) NOT NULL DEFAULT 'paid'"),
                        new Column("request_id", "VARCHAR(64) NOT NULL DEFAULT ''"),
                        new Column(v, "BIGINT NOT NULL DEFAULT 1"),
                        new Column("created_at", "DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"),
                        new Column("updated_at", "DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)")),
                        // idx_updated serves 'reconcile --since'
                        "activity_id, user_id", List.of(new Index("idx_user", "user_id"), new Index("idx_updated", "updated_at"))),
                // per deleted claim key, the version its tombstone carries: a row inserted at that key
                // again starts there, so it ranks above every entry of the rows before it
                new Table(tombstoneTable(m), List.of(
                        new Column("activity_id", "BIGINT NOT NULL"),
                        new Column("user_id", "BIGINT NOT NULL"),
                        new Column("version", "BIGINT NOT NULL"),
                        new Column("deleted_at", "DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)")),
                        "activity_id, user_id", List.of(new Index("idx_deleted", "deleted_at"))),
                new Table(m.checkpointTable(), List.of(
                        new Column("pipeline", "VARCHAR(64) NOT NULL"),
                        new Column("binlog_file", "VARCHAR(255) NOT NULL"),
                        new Column("binlog_position", "BIGINT NOT NULL"),
                        new Column("gtid", "VARCHAR(4096) NOT NULL DEFAULT ''"),
                        // the newest heartbeat applied below the checkpoint and its lag: what 'status' reports as lag
                        new Column("applied_beat_millis", "BIGINT NOT NULL DEFAULT 0"),
                        new Column("lag_millis", "BIGINT NOT NULL DEFAULT -1"),
                        // the daemon that saved it, as host:pid, and its lock session: 'status' names the leader by them
                        new Column("leader", "VARCHAR(255) NOT NULL DEFAULT ''"),
                        new Column("leader_connection", "BIGINT NULL"),
                        new Column("updated_at", "DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)")),
                        "pipeline", List.of()),
                new Table(RECONCILE_TABLE, List.of(
                        new Column("scope", "VARCHAR(255) NOT NULL"),
                        new Column("scan_table", "VARCHAR(16) NOT NULL"),
                        new Column("after_millis", "BIGINT NOT NULL"),
                        new Column("after_activity", "BIGINT NOT NULL"),
                        new Column("after_user", "BIGINT NOT NULL"),
                        new Column("since_millis", "BIGINT NOT NULL DEFAULT 0"),
                        new Column("scanned", "BIGINT NOT NULL DEFAULT 0"),
                        new Column("done", "BOOLEAN NOT NULL DEFAULT FALSE"),
                        new Column("updated_at", "DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)")),
                        "scope", List.of()),
                // claims answered, their groups, the claims' time from queued to answered, and over
                // the timed groups' claims (a sample) that time and the part of it their
                // transactions waited for budget-shard locks, in microseconds
                new Table(CLAIM_STATS_TABLE, List.of(
                        new Column("activity_id", "BIGINT NOT NULL"),
                        new Column("minute", "DATETIME NOT NULL"),
                        new Column("claims", "BIGINT NOT NULL DEFAULT 0"),
                        new Column("claim_groups", "BIGINT NOT NULL DEFAULT 0"),
                        new Column("claim_us", "BIGINT NOT NULL DEFAULT 0"),
                        new Column("shard_wait_us", "BIGINT NOT NULL DEFAULT 0"),
                        new Column("timed_claim_us", "BIGINT NOT NULL DEFAULT 0")),
                        "activity_id, minute", List.of(new Index("idx_minute", "minute"))),
                new Table(m.heartbeatTable(), List.of(
                        new Column("pipeline", "VARCHAR(64) NOT NULL"),
                        new Column("beat_millis", "BIGINT NOT NULL"),
                        new Column("updated_at", "DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)")),
                        "pipeline", List.of()));
    }

    public static String budgetTable(MappingSettings m) {
        return m.activityTable() + "_budget";
    }

    /** The table of deleted claim keys and their tombstone versions. */
    public static String tombstoneTable(MappingSettings m) {
        return m.claimTable() + "_tombstone";
    }

    /**
     * The claim table's triggers, which make a key's version rise with every write whoever writes
     * it: an insert starts at the key's tombstone version (1 for a key never deleted, never below 1);
     * an update raises the version by at least one (a writer that does not change it, or lowers
     * it, included), and a key-changing update starts the new key at its tombstone version and
     * leaves one for the old key; a delete leaves the tombstone version, the row's version + 1,
     * which is what the sync daemon writes to the caches for it. The tombstone lookups are locking
     * reads, so an insert waits for a delete of the same key in flight and sees its tombstone.
     */
    static List<Trigger> triggers(MappingSettings m) {
        String claim = m.claimTable();
        String v = m.versionColumn();
        String tomb = tombstoneTable(m);
        String gone = "SELECT COALESCE(MAX(version), 1) INTO gone FROM " + tomb
                + " WHERE activity_id = NEW.activity_id AND user_id = NEW.user_id FOR UPDATE;";
        String leave = "INSERT INTO " + tomb + " (activity_id, user_id, version) VALUES (OLD.activity_id, OLD.user_id, OLD."
                + v + " + 1) ON DUPLICATE KEY UPDATE version = GREATEST(version, VALUES(version))";
        return List.of(
                // one statement: every claim pays this trigger, and each statement of a body costs. The
                // row itself is read too: REPLACE inserts before it deletes the row it replaces
                new Trigger(claim + "_version_bi", "BEFORE INSERT ON " + claim + " FOR EACH ROW SET NEW." + v
                        + " = GREATEST(COALESCE(NEW." + v + ", 1), COALESCE((SELECT version FROM " + tomb
                        + " t WHERE t.activity_id = NEW.activity_id AND t.user_id = NEW.user_id FOR UPDATE), 1),"
                        + " COALESCE((SELECT c." + v + " + 1 FROM " + claim
                        + " c WHERE c.activity_id = NEW.activity_id AND c.user_id = NEW.user_id), 1))"),
                // under READ COMMITTED a delete of the key can commit between the insert trigger's read
                // and the row's insert: the insert then fails (SQLSTATE 40001, retried as a deadlock is)
                new Trigger(claim + "_version_ai", "AFTER INSERT ON " + claim + " FOR EACH ROW IF COALESCE((SELECT version FROM "
                        + tomb + " t WHERE t.activity_id = NEW.activity_id AND t.user_id = NEW.user_id FOR UPDATE), 1) > NEW." + v
                        + " THEN SIGNAL SQLSTATE '40001' SET MESSAGE_TEXT = 'rpctl: the key was deleted while this row was"
                        + " inserted; retry the transaction'; END IF"),
                new Trigger(claim + "_version_bu", "BEFORE UPDATE ON " + claim + " FOR EACH ROW BEGIN"
                        + " DECLARE gone BIGINT DEFAULT 1;"
                        + " IF NEW.activity_id <> OLD.activity_id OR NEW.user_id <> OLD.user_id THEN " + gone + " " + leave
                        + "; END IF; SET NEW." + v + " = GREATEST(COALESCE(NEW." + v + ", 1), OLD." + v + " + 1, gone); END"),
                new Trigger(claim + "_version_ad", "AFTER DELETE ON " + claim + " FOR EACH ROW " + leave));
    }

    /** The names of the claim table's version triggers that are missing or differ from this rpctl's. */
    public List<String> missingTriggers() {
        try (Connection c = db.connection()) {
            Map<String, String> have = triggerBodies(c);
            if (have.isEmpty() && !seesTriggers(c)) {
                // information_schema shows a table's triggers only to a user with TRIGGER on it, which
                // the least-privilege users of claims and the daemon do not have: db init checks them
                LOG.debug("user {} cannot see the triggers of {} (no TRIGGER privilege); not checked",
                        db.settings().user(), mapping.claimTable());
                return List.of();
            }
            List<String> out = new ArrayList<>();
            for (Trigger t : triggers) {
                String name = t.name().toLowerCase();
                if (have.containsKey(name) && have.get(name) == null) {
                    // MariaDB shows the trigger but not its body to a user without TRIGGER: there it is
                    continue;
                }
                if (!same(have.get(name), t)) {
                    out.add(t.name());
                }
            }
            return out;
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /** Refuses to go on (exit 78, naming db init) when a table of rpctl's schema, or a trigger, is missing. */
    public void requireSchema() {
        try (Connection c = db.connection()) {
            for (Table t : tables) {
                Set<String> have = columns(c, t.name());
                if (have.isEmpty() && exists(c, t.name())) {
                    // a table of another role's, on which this user has no privilege: not this command's to check
                    continue;
                }
                if (have.isEmpty()) {
                    throw new RpctlException(ExitCode.CONFIG, "table " + t.name() + " does not exist in "
                            + db.settings().database() + "; the schema is older than this rpctl: run 'rpctl db init'");
                }
                for (Column col : t.columns()) {
                    if (!have.contains(col.name().toLowerCase())) {
                        throw new RpctlException(ExitCode.CONFIG, "table " + t.name() + " lacks column " + col.name()
                                + "; the schema is older than this rpctl: run 'rpctl db init'");
                    }
                }
            }
        } catch (SQLException e) {
            throw db.translate(e);
        }
        requireTriggers();
    }

    /**
     * Refuses to go on (exit 78) when the claim table lacks its version triggers: without them a
     * writer other than rpctl can make a version go back, and a cache keep an old row.
     */
    public void requireTriggers() {
        List<String> missing = missingTriggers();
        if (!missing.isEmpty()) {
            throw new RpctlException(ExitCode.CONFIG, "the claim table " + mapping.claimTable()
                    + " lacks the version trigger(s) " + String.join(", ", missing) + " of this rpctl; run 'rpctl db init'");
        }
    }

    /** Creates what is missing and reports one change per table (or "up to date"). */
    public List<Change> init() {
        List<Change> changes = new ArrayList<>();
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            for (Table t : tables) {
                Set<String> have = columns(c, t.name());
                if (have.isEmpty()) {
                    st.execute(t.createSql());
                    changes.add(new Change(t.name(), "created"));
                    continue;
                }
                List<String> added = new ArrayList<>();
                String after = null;
                for (Column col : t.columns()) {
                    if (!have.contains(col.name().toLowerCase())) {
                        st.execute("ALTER TABLE " + t.name() + " ADD COLUMN " + col.name() + " " + col.ddl()
                                + (after == null ? " FIRST" : " AFTER " + after));
                        added.add("column " + col.name());
                    }
                    after = col.name();
                }
                Set<String> indexes = indexes(c, t.name());
                for (Index i : t.indexes()) {
                    if (!indexes.contains(i.name().toLowerCase())) {
                        st.execute("ALTER TABLE " + t.name() + " ADD KEY " + i.name() + " (" + i.ddl() + ")");
                        added.add("index " + i.name());
                    }
                }
                changes.add(new Change(t.name(), added.isEmpty() ? "up to date" : "added " + String.join(", ", added)));
            }
            changes.add(new Change(mapping.claimTable() + " triggers", installTriggers(c, st)));
        } catch (SQLException e) {
            throw db.translate(e);
        }
        return changes;
    }

    /** Creates the triggers that are missing and replaces those that differ; what it did, in words. */
    private String installTriggers(Connection c, Statement st) throws SQLException {
        Map<String, String> have = triggerBodies(c);
        List<String> done = new ArrayList<>();
        boolean replacing = triggers.stream().anyMatch(t -> have.get(t.name().toLowerCase()) != null
                && !same(have.get(t.name().toLowerCase()), t));
        if (replacing) {
            // no write may pass between dropping a trigger and creating its successor
            st.execute("LOCK TABLES " + mapping.claimTable() + " WRITE, " + tombstoneTable(mapping) + " WRITE");
        }
        try {
            return install(st, have, done);
        } finally {
            if (replacing) {
                st.execute("UNLOCK TABLES");
            }
        }
    }

    private String install(Statement st, Map<String, String> have, List<String> done) throws SQLException {
        for (Trigger t : triggers) {
            String body = have.get(t.name().toLowerCase());
            if (same(body, t)) {
                continue;
            }
            try {
                if (body != null) {
                    // MySQL has no CREATE OR REPLACE TRIGGER; the old one goes first
                    st.execute("DROP TRIGGER IF EXISTS " + t.name());
                }
                st.execute("CREATE TRIGGER " + t.name() + " " + t.definition());
            } catch (SQLException e) {
                if (e.getErrorCode() == ER_NEED_SUPER || e.getErrorCode() == ER_ACCESS_DENIED) {
                    throw new RpctlException(ExitCode.CONFIG, "creating the trigger " + t.name() + " was refused ("
                            + e.getMessage() + "); with the binlog on, creating triggers needs the SUPER privilege or"
                            + " log_bin_trust_function_creators=1: run 'rpctl db init' as an administrator,"
                            + " or have one run SET GLOBAL log_bin_trust_function_creators=1", e);
                }
                throw e;
            }
            done.add((body == null ? "added trigger " : "replaced trigger ") + t.name());
        }
        return done.isEmpty() ? "up to date" : String.join(", ", done);
    }

    /**
     * Whether a table exists, for a user information_schema shows nothing of it to: true when it
     * exists but the user has no privilege on it, false when it does not exist.
     */
    private static boolean exists(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.executeQuery("SELECT 1 FROM " + table + " WHERE 1 = 0").close();
            return true;
        } catch (SQLException e) {
            if (e.getErrorCode() == ER_NO_SUCH_TABLE) {
                return false;
            }
            if (e.getErrorCode() == Database.ER_TABLEACCESS_DENIED) {
                return true;
            }
            throw e;
        }
    }

    /** Whether this user holds TRIGGER on the claim table (globally, on the database or on the table). */
    private boolean seesTriggers(Connection c) throws SQLException {
        String sql = "SELECT (SELECT COUNT(*) FROM information_schema.user_privileges WHERE privilege_type = 'TRIGGER')"
                + " + (SELECT COUNT(*) FROM information_schema.schema_privileges WHERE privilege_type = 'TRIGGER'"
                + " AND table_schema = DATABASE())"
                + " + (SELECT COUNT(*) FROM information_schema.table_privileges WHERE privilege_type = 'TRIGGER'"
                + " AND table_schema = DATABASE() AND table_name = ?)";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, mapping.claimTable());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getLong(1) > 0;
            }
        }
    }

    private Map<String, String> triggerBodies(Connection c) throws SQLException {
        Map<String, String> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT trigger_name, action_statement FROM information_schema.triggers"
                + " WHERE trigger_schema = DATABASE() AND event_object_table = ?")) {
            ps.setString(1, mapping.claimTable());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1).toLowerCase(), rs.getString(2));
                }
            }
        }
        return out;
    }

    /** Whether the server's body of a trigger is this rpctl's (the body is what follows FOR EACH ROW). */
    private static boolean same(String serverBody, Trigger t) {
        if (serverBody == null) {
            return false;
        }
        String def = t.definition();
        String ours = def.substring(def.indexOf("FOR EACH ROW ") + "FOR EACH ROW ".length());
        return squeeze(serverBody).equalsIgnoreCase(squeeze(ours));
    }

    private static String squeeze(String sql) {
        return sql.trim().replaceAll("\\s+", " ");
    }

    private static Set<String> columns(Connection c, String table) throws SQLException {
        return names(c, "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?", table);
    }

    private static Set<String> indexes(Connection c, String table) throws SQLException {
        return names(c, "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ?", table);
    }

    private static Set<String> names(Connection c, String sql, String table) throws SQLException {
        Set<String> out = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1).toLowerCase());
                }
            }
        }
        return out;
    }
}
