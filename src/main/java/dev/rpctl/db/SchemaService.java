package dev.rpctl.db;

import dev.rpctl.config.MappingSettings;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
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

    /** One line of the report: table, what was done. */
    public record Change(String table, String action) {}

    private final Database db;
    private final List<Table> tables;

    public SchemaService(Database db, MappingSettings mapping) {
        this.db = db;
        this.tables = tables(mapping);
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
                        "activity_id, user_id", List.of(new Index("idx_user", "user_id"))),
                new Table(m.checkpointTable(), List.of(
                        new Column("pipeline", "VARCHAR(64) NOT NULL"),
                        new Column("binlog_file", "VARCHAR(255) NOT NULL"),
                        new Column("binlog_position", "BIGINT NOT NULL"),
                        new Column("gtid", "VARCHAR(4096) NOT NULL DEFAULT ''"),
                        // the newest heartbeat applied below the checkpoint and its lag: what 'status' reports as lag
                        new Column("applied_beat_millis", "BIGINT NOT NULL DEFAULT 0"),
                        new Column("lag_millis", "BIGINT NOT NULL DEFAULT -1"),
                        new Column("updated_at", "DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)")),
                        "pipeline", List.of()),
                new Table(m.heartbeatTable(), List.of(
                        new Column("pipeline", "VARCHAR(64) NOT NULL"),
                        new Column("beat_millis", "BIGINT NOT NULL"),
                        new Column("updated_at", "DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)")),
                        "pipeline", List.of()));
    }

    public static String budgetTable(MappingSettings m) {
        return m.activityTable() + "_budget";
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
        } catch (SQLException e) {
            throw db.translate(e);
        }
        return changes;
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
