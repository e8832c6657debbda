package dev.rpctl;

import dev.rpctl.app.App;
import dev.rpctl.config.Config;
import dev.rpctl.config.ConfigLoader;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** The local services of bin/services, as the tests reach them. */
public final class Services {
    private Services() {
    }

    public static Map<String, String> env() {
        Map<String, String> env = System.getenv();
        if (!env.containsKey("RPCTL_MYSQL_PORT")) {
            throw new IllegalStateException("local services not exported: run the tests with ./bin/test");
        }
        return env;
    }

    public static Config config() {
        return new ConfigLoader(env(), Path.of("").toAbsolutePath()).load(null, Map.of());
    }

    /** An App on the local services; the caller closes it. */
    public static App app() {
        return new App(config());
    }

    /** A connection as the local MariaDB's root user (no password there), for what the rpctl user may not see or do. */
    public static java.sql.Connection root() throws java.sql.SQLException {
        return java.sql.DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + env().get("RPCTL_MYSQL_PORT") + "/rpctl", "root", "");
    }

    public static String clusterNodes() {
        return env().getOrDefault("RPCTL_CLUSTER_NODES", "127.0.0.1:17001,127.0.0.1:17002,127.0.0.1:17003");
    }

    /** An activity id no other test or run uses. */
    public static long freshActivityId() {
        return 1_000_000_000L + ThreadLocalRandom.current().nextLong(1_000_000_000_000L);
    }
}
