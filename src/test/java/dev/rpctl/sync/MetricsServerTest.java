package dev.rpctl.sync;

import dev.rpctl.errors.RpctlException;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsServerTest {

    private static List<Thread> threadsOf(int port) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().equals("metrics-http-" + port)).toList();
    }

    @Test
    void its_threads_are_gone_once_it_is_closed() throws Exception {
        MetricsServer server = new MetricsServer("127.0.0.1:0", null, List::of, List::of);
        int port = server.port();
        HttpResponse<String> health = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode());
        assertEquals(1, threadsOf(port).size(), "its handler thread serves while it is open");

        server.close();
        assertEquals(List.of(), threadsOf(port));
    }

    @Test
    void a_port_in_use_is_a_configuration_error_naming_where_the_address_was_set() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            RpctlException e = assertThrows(RpctlException.class,
                    () -> new MetricsServer(address, "flag --metrics", List::of, List::of));
            assertEquals(78, e.exitCode().code());
            assertTrue(e.getMessage().startsWith("flag --metrics: metrics.address " + address + " cannot be listened on: "),
                    e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void it_answers_get_of_metrics_and_health_only() throws Exception {
        try (MetricsServer server = new MetricsServer("127.0.0.1:0", null, List::of, List::of)) {
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.port();
            HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
                    .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
            assertEquals("GET", post.headers().firstValue("Allow").orElseThrow());
            HttpResponse<String> delete = http.send(HttpRequest.newBuilder(URI.create(base + "/health")).DELETE().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(405, delete.statusCode());
            for (String path : List.of("/", "/metrics/x", "/metricsx", "/healthz", "/health/../metrics")) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(404, r.statusCode(), path);
            }
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }

    @Test
    void a_request_with_oversized_headers_is_refused_and_the_server_goes_on() throws Exception {
        try (MetricsServer server = new MetricsServer("127.0.0.1:0", null, List::of, List::of)) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", server.port())) {
                java.io.OutputStream out = s.getOutputStream();
                out.write("GET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes());
                String big = "X-Big: " + "a".repeat(64 * 1024) + "\r\n";
                String status = "";
                try {
                    for (int i = 0; i < 64; i++) {
                        out.write(big.getBytes());
                    }
                    out.write("\r\n".getBytes());
                    out.flush();
                    status = new String(s.getInputStream().readNBytes(12));
                } catch (java.io.IOException closedByServer) {
                    // the server may close the connection before all 4 MB are sent: refused as well
                }
                assertTrue(!status.contains("200"), status);
            }
            HttpResponse<String> after = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, after.statusCode());
        }
    }
}
