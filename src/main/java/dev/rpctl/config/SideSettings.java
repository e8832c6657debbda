package dev.rpctl.config;

import java.time.Duration;
import java.util.List;

/** How to reach the Redis of one cache side. {@link #toString()} masks the password. */
public record SideSettings(String name, SideMode mode, List<HostPort> nodes, String masterName, String user,
                           String password, TlsSettings tls, int database, Duration timeout, int poolSize) {

    public SideSettings {
        nodes = List.copyOf(nodes);
    }

    /** Without TLS, or with TLS on its defaults (full verification against the JVM's CA certificates). */
    public SideSettings(String name, SideMode mode, List<HostPort> nodes, String masterName, String user,
                        String password, boolean tls, int database, Duration timeout, int poolSize) {
        this(name, mode, nodes, masterName, user, password,
                tls ? TlsSettings.on("side-" + name) : TlsSettings.off("side-" + name), database, timeout, poolSize);
    }

    @Override
    public String toString() {
        return "SideSettings[name=" + name + ", mode=" + mode + ", nodes=" + nodes + ", masterName=" + masterName
                + ", user=" + user + ", password=" + Keys.SIDE_A_PASSWORD.render(password) + ", tls=" + tls
                + ", database=" + database + ", timeout=" + Durations.render(timeout) + ", poolSize=" + poolSize
                + "]";
    }
}
