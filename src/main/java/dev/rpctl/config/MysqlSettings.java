package dev.rpctl.config;

import java.time.Duration;

/** How to reach one MySQL server. {@link #toString()} masks the password. */
public record MysqlSettings(String host, int port, String database, String user, String password, int poolSize,
                            Duration connectTimeout, TlsSettings tls) {

    /** Without TLS, or with TLS on its defaults (full verification against the JVM's CA certificates). */
    public MysqlSettings(String host, int port, String database, String user, String password, int poolSize,
                         Duration connectTimeout, boolean tls) {
        this(host, port, database, user, password, poolSize, connectTimeout,
                tls ? TlsSettings.on("mysql") : TlsSettings.off("mysql"));
    }

    public String address() {
        return host + ":" + port;
    }

    @Override
    public String toString() {
        return "MysqlSettings[host=" + host + ", port=" + port + ", database=" + database + ", user=" + user
                + ", password=" + Keys.MYSQL_PASSWORD.render(password) + ", poolSize=" + poolSize
                + ", connectTimeout=" + Durations.render(connectTimeout) + ", tls=" + tls + "]";
    }
}
