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
}
