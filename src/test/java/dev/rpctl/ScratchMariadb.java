package dev.rpctl;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway MariaDB of a test's own, for a server the shared one cannot be turned into (the
 * binary log off): installed in a temporary directory, root without a password, stopped on close.
 */
public final class ScratchMariadb implements AutoCloseable {
    private final Process process;
    private final int port;

    private ScratchMariadb(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts one with the given server options added, and creates the database rpctl. */
    public static ScratchMariadb start(Path dir, String... options) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        return start(dir, port, options);
    }

    /** As {@link #start(Path, String...)}, on the given port. */
    public static ScratchMariadb start(Path dir, int port, String... options) throws IOException, InterruptedException {
        Path data = dir.resolve("data");
        // a temporary folder of its own, as bin/services gives its server
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        boolean root = "root".equals(System.getProperty("user.name"));
        List<String> install = new ArrayList<>(List.of("mariadb-install-db", "--no-defaults", "--datadir=" + data, "--tmpdir=" + tmp,
                "--auth-root-authentication-method=normal", "--skip-test-db"));
        if (root) {
            install.add("--user=root");
        }
        Process i = new ProcessBuilder(install).redirectErrorStream(true).redirectOutput(dir.resolve("install.log").toFile()).start();
        if (!i.waitFor(60, TimeUnit.SECONDS) || i.exitValue() != 0) {
            throw new IllegalStateException("mariadb-install-db failed: " + Files.readString(dir.resolve("install.log")));
        }
        List<String> cmd = new ArrayList<>(List.of("mariadbd", "--no-defaults", "--datadir=" + data, "--tmpdir=" + tmp, "--port=" + port,
                "--bind-address=127.0.0.1", "--socket=" + dir.resolve("s.sock"), "--pid-file=" + dir.resolve("m.pid"),
                "--innodb-buffer-pool-size=16M", "--skip-name-resolve"));
        cmd.addAll(List.of(options));
        if (root) {
            cmd.add("--user=root");
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("error.log").toFile()).start();
        ScratchMariadb m = new ScratchMariadb(p, port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Connection c = DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + port + "/", "root", "");
                 Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE IF NOT EXISTS rpctl");
                return m;
            } catch (SQLException notYet) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    m.close();
                    throw new IllegalStateException("scratch mariadb did not start: " + Files.readString(dir.resolve("error.log")));
                }
                Thread.sleep(200);
            }
        }
    }

    public int port() {
        return port;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
