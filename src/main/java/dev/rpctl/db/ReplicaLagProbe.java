package dev.rpctl.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Seconds_Behind_Master of a replica, as the server reports it. */
public final class ReplicaLagProbe {
    private ReplicaLagProbe() {
    }

    public static String describe(Database replica) {
        try (Connection c = replica.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
            if (!rs.next()) {
                return "not replicating";
            }
            Object lag = rs.getObject("Seconds_Behind_Master");
            return lag == null ? "unknown (replication stopped)" : lag + " s";
        } catch (SQLException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}
