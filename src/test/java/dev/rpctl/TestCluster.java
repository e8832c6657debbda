package dev.rpctl;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * A Redis Cluster of a test's own: three masters with a replica each, on ports 17101-17106 shifted
 * by the services' port offset (read back from RPCTL_MYSQL_PORT, 13306 + offset), with a node
 * timeout of one second so that a replica takes over a dead master quickly. Killing, pausing and
 * resharding it disturbs no other test; close() kills every node and deletes its files.
 */
public final class TestCluster implements AutoCloseable {
    public static final int NODE_TIMEOUT_MS = 1000;

    private final Path dir;
    private final Map<Integer, Process> nodes = new LinkedHashMap<>();

    private TestCluster(Path dir) {
        this.dir = dir;
    }

    /** Starts six nodes, makes them a cluster with one replica per master and waits until every node says ok. */
    public static TestCluster start() throws IOException, InterruptedException {
        int offset = Integer.parseInt(Services.env().get("RPCTL_MYSQL_PORT")) - 13306;
        TestCluster c = new TestCluster(Files.createTempDirectory("rpctl-it-cluster-"));
        try {
            List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            for (int i = 0; i < 6; i++) {
                int port = 17101 + offset + i;
                c.startNode(port);
                create.add("127.0.0.1:" + port);
            }
            for (int port : c.nodes.keySet()) {
                c.await("node " + port + " answers", () -> c.cli(port, "PING").equals("PONG"));
            }
            create.addAll(List.of("--cluster-replicas", "1", "--cluster-yes"));
            Process p = new ProcessBuilder(create).redirectErrorStream(true)
                    .redirectOutput(c.dir.resolve("create.log").toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("redis-cli --cluster create failed: " + Files.readString(c.dir.resolve("create.log")));
            }
            c.awaitOk();
            // a replica takes over only once it has synced with its master
            for (int port : c.nodes.keySet()) {
                c.await("node " + port + " a master or a synced replica", () -> {
                    String info = c.cli(port, "INFO", "REPLICATION");
                    return info.contains("role:master") || info.contains("master_link_status:up");
                });
            }
            return c;
        } catch (IOException | InterruptedException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private void startNode(int port) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            throw new IllegalStateException("port " + port + " is taken: a cluster node left running by an earlier test? "
                    + "(kill the redis-server on it)");
        } catch (IOException free) {
            // nobody listens: ours to take
        }
        Path nodeDir = Files.createDirectories(dir.resolve(Integer.toString(port)));
        Process p = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", nodeDir.toString(), "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", Integer.toString(NODE_TIMEOUT_MS),
                "--cluster-allow-replica-migration", "no", "--repl-diskless-sync-delay", "0")
                .redirectErrorStream(true).redirectOutput(nodeDir.resolve("redis.log").toFile()).start();
        nodes.put(port, p);
    }

    /** host:port of every node, for a side's nodes setting. */
    public String nodes() {
        return nodes.keySet().stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
    }

    /** redis-cli -p port args..., its output trimmed ("" when the node does not answer). */
    public String cli(int port, String... args) {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A node that still runs and is not paused, to ask about the cluster. */
    private int anyLive() {
        return nodes.entrySet().stream().filter(e -> e.getValue().isAlive() && !paused.contains(e.getKey()))
                .map(Map.Entry::getKey).findFirst().orElseThrow();
    }

    private final java.util.Set<Integer> paused = new java.util.HashSet<>();

    public int slot(String key) {
        return Integer.parseInt(cli(anyLive(), "CLUSTER", "KEYSLOT", key));
    }

    /** The port of the master that serves the slot, as a live node sees it. */
    public int masterOf(int slot) {
        for (String line : cli(anyLive(), "CLUSTER", "NODES").split("\n")) {
            String[] f = line.split(" ");
            if (!f[2].contains("master") || f[2].contains("fail")) {
                continue;
            }
            for (int i = 8; i < f.length; i++) {
                String range = f[i];
                if (range.startsWith("[")) {
                    continue;
                }
                String[] ab = range.split("-");
                int from = Integer.parseInt(ab[0]);
                int to = ab.length > 1 ? Integer.parseInt(ab[1]) : from;
                if (slot >= from && slot <= to) {
                    return port(f[1]);
                }
            }
        }
        return -1;
    }

    /** The port of the replica of that master. */
    public int replicaOf(int masterPort) {
        String id = cli(masterPort, "CLUSTER", "MYID");
        for (String line : cli(masterPort, "CLUSTER", "NODES").split("\n")) {
            String[] f = line.split(" ");
            if (f[3].equals(id)) {
                return port(f[1]);
            }
        }
        throw new IllegalStateException("master " + masterPort + " has no replica");
    }

    /** The masters other than the one given. */
    public List<Integer> mastersBut(int port) {
        List<Integer> out = new ArrayList<>();
        for (String line : cli(anyLive(), "CLUSTER", "NODES").split("\n")) {
            String[] f = line.split(" ");
            if (f[2].contains("master") && !f[2].contains("fail") && port(f[1]) != port) {
                out.add(port(f[1]));
            }
        }
        return out;
    }

    public List<Integer> masters() {
        return mastersBut(-1);
    }

    private static int port(String address) {
        // 127.0.0.1:17101@27101
        String hostPort = address.split("@")[0];
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }

    public String id(int port) {
        return cli(port, "CLUSTER", "MYID");
    }

    /** kill -9 of one node. */
    public void kill(int port) throws InterruptedException {
        Process p = nodes.get(port);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGSTOP: the node keeps its connections but answers nothing. */
    public void pause(int port) throws IOException, InterruptedException {
        signal(port, "STOP");
        paused.add(port);
    }

    public void resume(int port) throws IOException, InterruptedException {
        signal(port, "CONT");
        paused.remove(port);
    }

    private void signal(int port, String sig) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + sig, Long.toString(nodes.get(port).pid())).start().waitFor(5, TimeUnit.SECONDS);
    }

    /** Waits until the live nodes say the cluster is ok and the slot's master is not the one given. */
    public void awaitTakeover(int slot, int deadMaster) throws InterruptedException {
        await("a replica takes over slot " + slot + " from " + deadMaster, () -> {
            int m = masterOf(slot);
            return m > 0 && m != deadMaster && clusterOk();
        });
    }

    /** Waits until every live node says cluster_state:ok. */
    public void awaitOk() throws InterruptedException {
        await("cluster_state:ok on every node", this::clusterOk);
    }

    /** Waits until a live node says cluster_state:fail. */
    public void awaitDown() throws InterruptedException {
        await("cluster_state:fail", () -> cli(anyLive(), "CLUSTER", "INFO").contains("cluster_state:fail"));
    }

    private boolean clusterOk() {
        for (Map.Entry<Integer, Process> e : nodes.entrySet()) {
            if (e.getValue().isAlive() && !paused.contains(e.getKey())
                    && !cli(e.getKey(), "CLUSTER", "INFO").contains("cluster_state:ok")) {
                return false;
            }
        }
        return true;
    }

    private void await(String what, BooleanSupplier done) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new IllegalStateException("test cluster: no " + what + " within 30 s");
            }
            Thread.sleep(100);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        for (Map.Entry<Integer, Process> e : nodes.entrySet()) {
            if (paused.contains(e.getKey())) {
                signal(e.getKey(), "CONT");
            }
            e.getValue().destroyForcibly();
        }
        for (Process p : nodes.values()) {
            p.waitFor(10, TimeUnit.SECONDS);
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
