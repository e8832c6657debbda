package dev.rpctl.config;

/**
 * TLS towards one server (MySQL, or the Redis of one side). Files are PEM; a blank {@code ca}
 * trusts the JVM's own CA certificates; {@code cert} and {@code key} are a client certificate,
 * for a server that asks for one, or blank.
 *
 * @param keys the section the values come from ({@code mysql}, {@code side-a}), for messages
 */
public record TlsSettings(boolean on, String ca, TlsVerify verify, String cert, String key, String keys) {

    /** TLS off, as the defaults are. */
    public static TlsSettings off(String keys) {
        return new TlsSettings(false, "", TlsVerify.FULL, "", "", keys);
    }

    /** TLS on with the defaults: the JVM's CA certificates, full verification, no client certificate. */
    public static TlsSettings on(String keys) {
        return new TlsSettings(true, "", TlsVerify.FULL, "", "", keys);
    }

    public boolean hasClientCertificate() {
        return !cert.isBlank();
    }

    /** How the log line at connect names it: {@code TLS}, {@code TLS (CA only)}, {@code TLS (not verified)}. */
    public String describe() {
        return switch (verify) {
            case FULL -> "TLS";
            case CA -> "TLS (certificate checked against the CA, host name not checked)";
            case NONE -> "TLS (certificate not verified)";
        };
    }
}
