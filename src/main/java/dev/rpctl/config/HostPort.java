package dev.rpctl.config;

/** A server address. IPv6 hosts are written in brackets: {@code [::1]:6379}. */
public record HostPort(String host, int port) {

    public HostPort {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must not be blank");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1-65535, got " + port);
        }
    }

    public static HostPort parse(String s) {
        String text = s == null ? "" : s.trim();
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf("]:");
            if (close < 0) {
                throw bad(s);
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw bad(s);
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
            if (host.contains(":")) {
                throw new IllegalArgumentException(
                        "expected host:port with an IPv6 host in brackets like [::1]:6379, got \"" + s + "\"");
            }
        }
        if (host.isBlank() || !port.matches("[0-9]{1,5}")) {
            throw bad(s);
        }
        int number = Integer.parseInt(port);
        if (number < 1 || number > 65535) {
            throw new IllegalArgumentException("expected host:port with a port 1-65535, got \"" + s + "\"");
        }
        return new HostPort(host, number);
    }

    private static IllegalArgumentException bad(String s) {
        return new IllegalArgumentException("expected host:port like 127.0.0.1:6379, got \"" + s + "\"");
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
