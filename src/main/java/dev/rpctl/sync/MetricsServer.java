package dev.rpctl.sync;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.binlog.BinlogPosition;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * /metrics in the Prometheus text format and /health, on the JDK's own HTTP server: its
 * dispatcher thread and one handler thread, both gone once {@link #close()} returns.
 */
public final class MetricsServer implements AutoCloseable {
    private static final double[] QUANTILES = {0.5, 0.9, 0.99, 0.999, 1.0};
    /** Upper bounds of the lag histogram's buckets, in milliseconds. */
    private static final long[] BUCKETS_MS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000};

    private final HttpServer server;
    private final ExecutorService handler;
    private final List<Thread> handlerThreads = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * @param hostPort an address the configuration has checked
     * @param setBy    where the address was set, as a configuration problem names it: {@code flag --metrics},
     *                 {@code env RPCTL_METRICS_ADDRESS}, {@code FILE:LINE}, or null for the default
     * @param problems why the daemon is unhealthy, one line each; /health answers 200 while there are none
     * @throws RpctlException exit 78 when the address cannot be listened on (a port in use, an
     *                        address not of this host), naming where it was set
     */
    public MetricsServer(String hostPort, String setBy, Supplier<List<SyncMetrics>> metrics, Supplier<List<String>> problems) {
        int colon = hostPort.lastIndexOf(':');
        InetSocketAddress address = new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
        limitRequests();
        try {
            server = HttpServer.create(address, 16);
        } catch (IOException e) {
            // the operator's choice of address, like any setting: 78, which the systemd unit does not retry
            throw new RpctlException(ExitCode.CONFIG, (setBy == null ? "" : setBy + ": ") + "metrics.address " + hostPort
                    + (setBy == null ? " (the default)" : "") + " cannot be listened on: " + RpctlException.rootMessage(e)
                    + "; pick a free port with --metrics HOST:PORT or metrics.address", e);
        }
        server.createContext("/", ex -> {
            // only GET of the two exact paths; a request body is never read (the server drains a bounded amount)
            String path = ex.getRequestURI().getRawPath();
            if (!path.equals("/metrics") && !path.equals("/health")) {
                respond(ex, 404, "text/plain", "not found: /metrics and /health only\n");
            } else if (!ex.getRequestMethod().equals("GET")) {
                ex.getResponseHeaders().set("Allow", "GET");
                respond(ex, 405, "text/plain", "method not allowed: GET only\n");
            } else if (path.equals("/metrics")) {
                respond(ex, 200, "text/plain; version=0.0.4", render(metrics.get()));
            } else {
                List<String> why = problems.get();
                respond(ex, why.isEmpty() ? 200 : 503, "text/plain",
                        why.isEmpty() ? "ok\n" : "unhealthy\n" + String.join("\n", why) + "\n");
            }
        });
        int port = server.getAddress().getPort();
        handler = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "metrics-http-" + port);
            t.setDaemon(true);
            handlerThreads.add(t);
            return t;
        });
        server.setExecutor(handler);
        server.start();
    }

    /**
     * Bounds of the JDK's HTTP server, read once when it first starts: a request's headers (count
     * and bytes), how long a client may take to send one, and idle connections kept. A value the
     * operator set with -D stays.
     */
    private static void limitRequests() {
        Map<String, String> limits = Map.of("sun.net.httpserver.maxReqHeaders", "64",
                "sun.net.httpserver.maxReqHeaderSize", "16384", "sun.net.httpserver.maxReqTime", "10",
                "sun.net.httpserver.maxRspTime", "30", "sun.net.httpserver.maxIdleConnections", "16",
                "sun.net.httpserver.drainAmount", "4096");
        limits.forEach((k, v) -> {
            if (System.getProperty(k) == null) {
                System.setProperty(k, v);
            }
        });
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    static String render(List<SyncMetrics> all) {
        StringBuilder sb = new StringBuilder();
        long now = System.currentTimeMillis();
        histogram(sb, all, "rpctl_sync_heartbeat_lag_seconds", "Heartbeat commit to applied through every lane of the side");
        // a pipeline that does not lead (a standby) has no lag to show: its series is left out, never NaN
        gauge(sb, all, "rpctl_sync_lag_seconds", "Commit-to-applied lag now; grows while heartbeats stop arriving",
                m -> m.lagMillis(now) / 1000.0, m -> m.lagMillis(now) >= 0);
        gauge(sb, all, "rpctl_sync_consumer_lag_messages", "Kafka mode: messages of the applier's partitions not yet read",
                m -> m.consumerLag(), m -> m.consumerLag() >= 0);
        gauge(sb, all, "rpctl_sync_side_up", "1 while the side answers the pipeline's pings", m -> m.sideUp() ? 1 : 0);
        summary(sb, all, "rpctl_sync_row_lag_seconds", "Claim row updated_at to apply on the side");
        counter(sb, all, "rpctl_sync_events_total", "Mapped row events read from the binlog", SyncMetrics::events);
        counter(sb, all, "rpctl_sync_rows_applied_total", "Cache compare-and-sets written", SyncMetrics::rowsApplied);
        counter(sb, all, "rpctl_sync_transactions_total", "Binlog transactions read", SyncMetrics::transactions);
        counter(sb, all, "rpctl_sync_retries_total", "Cache batches retried after an error", SyncMetrics::retries);
        counter(sb, all, "rpctl_sync_errors_total", "Checkpoint, heartbeat and lock errors", SyncMetrics::errors);
        counter(sb, all, "rpctl_sync_bad_data_total", "Undecodable binlog rows", SyncMetrics::badData);
        counter(sb, all, "rpctl_sync_xa_unmatched_total", "XA resolutions read without their prepare", SyncMetrics::xaUnmatched);
        counter(sb, all, "rpctl_sync_undecodable_entries_total", "Cache entries the compare-and-set could not read", SyncMetrics::undecodable);
        gauge(sb, all, "rpctl_sync_leader", "1 while this daemon leads the pipeline", m -> m.leader() ? 1 : 0);
        gauge(sb, all, "rpctl_sync_connected", "1 while the binlog connection is up", m -> m.connected() ? 1 : 0);
        gauge(sb, all, "rpctl_sync_checkpoint_age_seconds", "Time since the checkpoint was last saved",
                m -> m.checkpointSavedAt() == 0 ? Double.NaN : (now - m.checkpointSavedAt()) / 1000.0);
        gauge(sb, all, "rpctl_sync_checkpoint_position", "Binlog position of the checkpoint", m -> {
            BinlogPosition p = m.checkpoint();
            return p == null ? Double.NaN : p.position();
        });
        sb.append("# HELP rpctl_sync_lane_retrying_seconds How long a lane has retried the batch in hand (0: not retrying)\n"
                + "# TYPE rpctl_sync_lane_retrying_seconds gauge\n");
        for (SyncMetrics m : all) {
            int lanes = m.laneDepths().size();
            double[] retrying = new double[lanes];
            for (SyncMetrics.LaneRetry r : m.laneRetries()) {
                if (r.lane() < lanes) {
                    retrying[r.lane()] = Math.max(0, now - r.sinceMillis()) / 1000.0;
                }
            }
            for (int i = 0; i < lanes; i++) {
                sb.append("rpctl_sync_lane_retrying_seconds{").append(labels(m)).append(",lane=\"").append(i).append("\"} ")
                        .append(num(retrying[i])).append('\n');
            }
        }
        sb.append("# HELP rpctl_sync_lane_queue_depth Changes waiting in a lane\n# TYPE rpctl_sync_lane_queue_depth gauge\n");
        for (SyncMetrics m : all) {
            List<Integer> depths = m.laneDepths();
            for (int i = 0; i < depths.size(); i++) {
                sb.append("rpctl_sync_lane_queue_depth{").append(labels(m)).append(",lane=\"").append(i).append("\"} ")
                        .append(depths.get(i)).append('\n');
            }
        }
        return sb.toString();
    }

    private static String labels(SyncMetrics m) {
        return "pipeline=\"" + m.pipeline() + "\",side=\"" + m.side() + "\"";
    }

    private static void histogram(StringBuilder sb, List<SyncMetrics> all, String name, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" histogram\n");
        for (SyncMetrics m : all) {
            Histogram h = m.heartbeatLag();
            for (long le : BUCKETS_MS) {
                long n = h.getTotalCount() == 0 ? 0 : h.getCountBetweenValues(0, le);
                sb.append(name).append("_bucket{").append(labels(m)).append(",le=\"").append(num(le / 1000.0)).append("\"} ")
                        .append(n).append('\n');
            }
            sb.append(name).append("_bucket{").append(labels(m)).append(",le=\"+Inf\"} ").append(h.getTotalCount()).append('\n');
            sumAndCount(sb, name, m, h);
        }
    }

    private static void summary(StringBuilder sb, List<SyncMetrics> all, String name, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" summary\n");
        for (SyncMetrics m : all) {
            Histogram h = m.rowLag();
            for (double q : QUANTILES) {
                double v = h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(q * 100) / 1000.0;
                sb.append(name).append('{').append(labels(m)).append(",quantile=\"").append(q).append("\"} ")
                        .append(num(v)).append('\n');
            }
            sumAndCount(sb, name, m, h);
        }
    }

    private static void sumAndCount(StringBuilder sb, String name, SyncMetrics m, Histogram h) {
        sb.append(name).append("_sum{").append(labels(m)).append("} ")
                .append(num(h.getMean() * h.getTotalCount() / 1000.0)).append('\n');
        sb.append(name).append("_count{").append(labels(m)).append("} ").append(h.getTotalCount()).append('\n');
    }

    private static void counter(StringBuilder sb, List<SyncMetrics> all, String name, String help,
                                java.util.function.ToLongFunction<SyncMetrics> f) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n");
        for (SyncMetrics m : all) {
            sb.append(name).append('{').append(labels(m)).append("} ").append(f.applyAsLong(m)).append('\n');
        }
    }

    private static void gauge(StringBuilder sb, List<SyncMetrics> all, String name, String help,
                              java.util.function.ToDoubleFunction<SyncMetrics> f) {
        gauge(sb, all, name, help, f, m -> true);
    }

    private static void gauge(StringBuilder sb, List<SyncMetrics> all, String name, String help,
                              java.util.function.ToDoubleFunction<SyncMetrics> f, java.util.function.Predicate<SyncMetrics> shown) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n");
        for (SyncMetrics m : all) {
            if (shown.test(m)) {
                sb.append(name).append('{').append(labels(m)).append("} ").append(num(f.applyAsDouble(m))).append('\n');
            }
        }
    }

    private static String num(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.6f", v);
    }

    /** Stops listening and ends both threads (the dispatcher's, which stop() joins, and the handler's). */
    @Override
    public void close() {
        server.stop(0);
        handler.shutdownNow();
        try {
            for (Thread t : handlerThreads) {
                t.join(5000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
