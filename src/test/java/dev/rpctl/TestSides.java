package dev.rpctl;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.config.HostPort;
import dev.rpctl.config.SideMode;
import dev.rpctl.config.SideSettings;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/** Cache sides of the local services for tests that pick the kind: a single Redis or the cluster. */
public final class TestSides {
    private TestSides() {
    }

    public static CacheSide single(String name, String hostPort) {
        return new CacheSide(new SideSettings(name, SideMode.SINGLE, List.of(HostPort.parse(hostPort)), "", "", "",
                false, 0, Duration.ofSeconds(2), 64));
    }

    public static CacheSide cluster(String name) {
        List<HostPort> nodes = Arrays.stream(Services.clusterNodes().split(",")).map(HostPort::parse).toList();
        return new CacheSide(new SideSettings(name, SideMode.CLUSTER, nodes, "", "", "", false, 0, Duration.ofSeconds(2), 64));
    }

    /** Side "a" as a single Redis, or as the cluster. */
    public static CacheSide of(String kind) {
        return kind.equals("cluster") ? cluster("a") : single("a", Services.env().get("RPCTL_SIDE_A_NODES"));
    }
}
