package dev.rpctl;

import dev.rpctl.config.HostPort;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The local services answer, with the settings the rest of the suite relies on. */
class ServicesIT {
    @Test
    void mariadb_answers_with_the_binlog_on_in_row_format_with_gtids() throws Exception {
        Map<String, String> env = Services.env();
        String url = "jdbc:mysql://" + env.get("RPCTL_MYSQL_HOST") + ":" + env.get("RPCTL_MYSQL_PORT") + "/"
                + env.get("RPCTL_MYSQL_DATABASE") + "?sslMode=DISABLED";
        try (Connection c = DriverManager.getConnection(url, env.get("RPCTL_MYSQL_USER"), env.get("RPCTL_MYSQL_PASSWORD"));
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@gtid_binlog_pos IS NOT NULL, @@server_id")) {
            rs.next();
            assertEquals(1, rs.getInt(1));
            assertEquals("ROW", rs.getString(2));
            assertEquals("FULL", rs.getString(3));
            assertTrue(rs.getBoolean(4));
            assertTrue(rs.getInt(5) > 0);
        }
    }

    @Test
    void both_redis_sides_answer() {
        for (String var : new String[] {"RPCTL_SIDE_A_NODES", "RPCTL_SIDE_B_NODES"}) {
            HostPort hp = HostPort.parse(Services.env().get(var));
            try (Jedis j = new Jedis(hp.host(), hp.port())) {
                assertEquals("PONG", j.ping());
            }
        }
    }

    @Test
    void the_redis_cluster_has_three_masters_and_all_slots() {
        Set<HostAndPort> nodes = Arrays.stream(Services.clusterNodes().split(","))
                .map(HostAndPort::from).collect(Collectors.toSet());
        try (JedisCluster c = new JedisCluster(nodes)) {
            assertEquals(3, c.getClusterNodes().size());
            HostAndPort first = nodes.iterator().next();
            try (Jedis j = new Jedis(first)) {
                String info = j.clusterInfo();
                assertTrue(info.contains("cluster_state:ok"), info);
                assertTrue(info.contains("cluster_slots_assigned:16384"), info);
            }
        }
    }

    @Test
    void kafka_answers() throws Exception {
        String bootstrap = Services.env().getOrDefault("RPCTL_KAFKA_BOOTSTRAP", "127.0.0.1:19092");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20000))) {
            assertEquals(1, admin.describeCluster().nodes().get(20, TimeUnit.SECONDS).size());
        }
    }
}
