package dev.rpctl.tls;

import dev.rpctl.config.TlsSettings;
import dev.rpctl.config.TlsVerify;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TLS contexts from PEM files, the same for every client rpctl opens (JDBC, binlog, Redis): the
 * server's chain is checked against the configured CA, the host name by the client's
 * {@link SSLParameters} ({@link #parameters}), and a client certificate is presented when one is
 * configured. A failure to verify is a configuration problem (78), told by {@link #refused}.
 */
public final class Tls {
    private static final Logger log = LoggerFactory.getLogger(Tls.class);
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private Tls() {
    }

    /** A context that trusts {@code s.ca()} (or the JVM's CA certificates) and presents the client certificate, if any. */
    public static SSLContext context(TlsSettings s) {
        try {
            TrustManager[] trust;
            if (s.verify() == TlsVerify.NONE) {
                trust = new TrustManager[] {new TrustingAnyone()};
            } else {
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(s.ca().isBlank() ? null : trustStore(s));
                trust = tmf.getTrustManagers();
            }
            KeyManager[] keys = null;
            if (s.hasClientCertificate()) {
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                char[] none = new char[0];
                kmf.init(keyStore(s, none), none);
                keys = kmf.getKeyManagers();
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keys, trust, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new RpctlException(ExitCode.CONFIG, s.keys() + ": cannot set up TLS: " + RpctlException.rootMessage(e), e);
        }
    }

    /** Parameters that make the handshake check the host name when the verification is full. */
    public static SSLParameters parameters(TlsSettings s) {
        SSLParameters p = new SSLParameters();
        if (s.verify() == TlsVerify.FULL) {
            p.setEndpointIdentificationAlgorithm("HTTPS");
        }
        return p;
    }

    /** The CA certificates of {@code s.ca()}, as a key store of trusted entries. */
    public static KeyStore trustStore(TlsSettings s) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (X509Certificate c : certificates(s, s.ca(), "tls-ca")) {
                ks.setCertificateEntry("ca-" + i++, c);
            }
            return ks;
        } catch (GeneralSecurityException | IOException e) {
            throw new RpctlException(ExitCode.CONFIG, s.keys() + ".tls-ca: " + RpctlException.rootMessage(e), e);
        }
    }

    /** The client certificate and its key, as a key store protected by {@code password}. */
    public static KeyStore keyStore(TlsSettings s, char[] password) {
        if (s.key().isBlank()) {
            throw new RpctlException(ExitCode.CONFIG, s.keys() + ".tls-cert is set but " + s.keys()
                    + ".tls-key is blank: give the PEM file of the certificate's private key");
        }
        List<X509Certificate> chain = certificates(s, s.cert(), "tls-cert");
        PrivateKey key = privateKey(s);
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("client", key, password, chain.toArray(new Certificate[0]));
            return ks;
        } catch (GeneralSecurityException | IOException e) {
            throw new RpctlException(ExitCode.CONFIG, s.keys() + ".tls-key does not go with " + s.keys() + ".tls-cert: "
                    + RpctlException.rootMessage(e), e);
        }
    }

    /**
     * The configuration problem behind a failed connection, when the failure is that the server's
     * certificate did not verify (untrusted chain, wrong host name) or that the server has no TLS;
     * null for any other failure (the server is down, the link broke).
     */
    public static RpctlException refused(TlsSettings s, String what, String address, Throwable failure) {
        if (!s.on()) {
            return null;
        }
        // the certificate first, wherever it is in the chain: newer JDKs name the alert they send
        // for it (certificate_unknown) in the handshake exception around it
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof CertificateException) {
                String hint = s.verify() == TlsVerify.FULL
                        ? "; check " + s.keys() + ".tls-ca, and that the certificate names the host rpctl connects to"
                        + " (or set " + s.keys() + ".tls-verify: ca)"
                        : "; check " + s.keys() + ".tls-ca";
                return new RpctlException(ExitCode.CONFIG, what + " at " + address
                        + ": the server's TLS certificate does not verify (" + RpctlException.oneLine(t.getMessage())
                        + ")" + hint, failure);
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(java.util.Locale.ROOT);
            if (t instanceof SSLException && refusesClientCertificate(m)) {
                return clientCertificate(s, what, address, t, failure);
            }
            if (m.contains("does not support ssl") || m.contains("server does not support tls")) {
                return new RpctlException(ExitCode.CONFIG, what + " at " + address + " does not offer TLS, and "
                        + s.keys() + ".tls is on; turn TLS on in the server, or " + s.keys() + ".tls off", failure);
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }

    /** The alerts a server sends when it does not accept the client's certificate, or its absence. */
    private static boolean refusesClientCertificate(String message) {
        return message.contains("certificate_required") || message.contains("bad_certificate")
                || message.contains("unknown_ca") || message.contains("certificate_unknown");
    }

    private static RpctlException clientCertificate(TlsSettings s, String what, String address, Throwable alert,
                                                    Throwable failure) {
        String hint = s.hasClientCertificate()
                ? "; check " + s.keys() + ".tls-cert and " + s.keys() + ".tls-key: the server must trust the CA that signed it"
                : "; the server requires one: set " + s.keys() + ".tls-cert and " + s.keys() + ".tls-key";
        return new RpctlException(ExitCode.CONFIG, what + " at " + address + " refused the TLS client certificate ("
                + RpctlException.oneLine(alert.getMessage()) + ")" + hint, failure);
    }

    /**
     * Whether a server whose link dropped at its first use (a broken pipe, a reset) refuses rpctl's
     * client certificate or its absence. Under TLS 1.3 the client's handshake ends before the server
     * has judged the certificate; its verdict comes as an alert, which a write that fails first
     * never reads. A fresh handshake, then a read, hears it. Null when the server says nothing of
     * the kind (it is down, it waits for a command).
     */
    public static RpctlException clientCertificateRefused(TlsSettings s, String what, String address, String host,
                                                          int port, int timeoutMillis, Throwable failure) {
        if (!s.on() || !linkDropped(failure)) {
            return null;
        }
        try (SSLSocket socket = (SSLSocket) context(s).getSocketFactory().createSocket()) {
            socket.connect(new InetSocketAddress(host, port), timeoutMillis);
            // the verdict follows the handshake within a round trip; a server content with the certificate says nothing
            socket.setSoTimeout(Math.min(500, timeoutMillis));
            try (SSLSocket tls = (SSLSocket) context(s).getSocketFactory().createSocket(socket, host, port, false)) {
                tls.setSSLParameters(parameters(s));
                tls.startHandshake();
                tls.getInputStream().read();
            }
        } catch (SSLException e) {
            String m = e.getMessage() == null ? "" : e.getMessage().toLowerCase(java.util.Locale.ROOT);
            if (refusesClientCertificate(m)) {
                return clientCertificate(s, what, address, e, failure);
            }
        } catch (IOException | RuntimeException e) {
            // down, timed out, or another story: the caller's own failure stands
        }
        return null;
    }

    private static boolean linkDropped(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(java.util.Locale.ROOT);
            if (t instanceof java.net.SocketException && (m.contains("broken pipe") || m.contains("connection reset"))) {
                return true;
            }
            if (t instanceof java.io.EOFException || m.contains("unexpected end of stream")) {
                return true;
            }
        }
        return false;
    }

    private static List<X509Certificate> certificates(TlsSettings s, String file, String key) {
        String name = s.keys() + "." + key;
        List<X509Certificate> out = new ArrayList<>();
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (byte[] block : blocks(read(name, file), "CERTIFICATE")) {
                try (InputStream in = new ByteArrayInputStream(block)) {
                    out.add((X509Certificate) cf.generateCertificate(in));
                }
            }
        } catch (GeneralSecurityException | IOException | IllegalArgumentException e) {
            throw new RpctlException(ExitCode.CONFIG, name + ": " + file + " holds a damaged certificate ("
                    + RpctlException.rootMessage(e) + ")", e);
        }
        if (out.isEmpty()) {
            throw new RpctlException(ExitCode.CONFIG, name + ": " + file
                    + " holds no certificate; expected a PEM file (-----BEGIN CERTIFICATE-----)");
        }
        checkDates(name, file, out, key.equals("tls-cert"), Instant.now());
        return out;
    }

    /** A certificate ending within this is warned about at start. */
    static final Duration EXPIRY_WARNING = Duration.ofDays(30);

    /** The certificates already warned about, so that each pool and client made from them does not warn again. */
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    /**
     * A client certificate ({@code client}: the first of the file) outside its dates is refused
     * here, with the dates, rather than by the server's handshake alert; one that ends within
     * {@link #EXPIRY_WARNING}, and a CA certificate past or near its end, are warned about once.
     *
     * @throws RpctlException 78 for a client certificate that has expired or is not valid yet
     */
    static void checkDates(String name, String file, List<X509Certificate> certs, boolean client, Instant now) {
        if (client) {
            X509Certificate c = certs.get(0);
            String subject = c.getSubjectX500Principal().getName();
            if (now.isAfter(c.getNotAfter().toInstant())) {
                throw new RpctlException(ExitCode.CONFIG, name + ": " + file + " (" + subject + ") expired on "
                        + day(c.getNotAfter().toInstant()) + "; servers refuse it: renew it");
            }
            if (now.isBefore(c.getNotBefore().toInstant())) {
                throw new RpctlException(ExitCode.CONFIG, name + ": " + file + " (" + subject + ") is not valid until "
                        + day(c.getNotBefore().toInstant()) + "; servers refuse it until then (check this host's clock)");
            }
        }
        // a bundle of CA certificates says it once for those past their end and once for those near it
        List<X509Certificate> expired = new ArrayList<>();
        List<X509Certificate> ending = new ArrayList<>();
        for (X509Certificate c : client ? certs.subList(0, 1) : certs) {
            Instant notAfter = c.getNotAfter().toInstant();
            if (now.isAfter(notAfter)) {
                expired.add(c);
            } else if (Duration.between(now, notAfter).compareTo(EXPIRY_WARNING) < 0) {
                ending.add(c);
            }
        }
        if (!expired.isEmpty() && WARNED.add(name + "\0" + file + "\0expired")) {
            X509Certificate c = expired.get(0);
            String first = c.getSubjectX500Principal().getName();
            String on = day(c.getNotAfter().toInstant());
            log.warn("{}: {} holds {}; a server whose chain ends at {} does not verify", name, file, expired.size() == 1
                    ? "a certificate that expired on " + on + " (" + first + ")"
                    : expired.size() + " certificates past their end (the first, " + first + ", expired on " + on + ")",
                    expired.size() == 1 ? "it" : "one of them");
        }
        if (!ending.isEmpty() && WARNED.add(name + "\0" + file + "\0ending")) {
            X509Certificate c = ending.get(0);
            long days = Math.round(Duration.between(now, c.getNotAfter().toInstant()).toSeconds() / 86_400.0);
            log.warn("{}: {} ({}{}) expires on {}, {}; renew it before then", name, file,
                    c.getSubjectX500Principal().getName(), ending.size() == 1 ? "" : ", and " + (ending.size() - 1) + " more",
                    day(c.getNotAfter().toInstant()),
                    days == 0 ? "within a day" : days == 1 ? "in a day" : "in " + days + " days");
        }
    }

    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    private static String day(Instant at) {
        return DAY.format(at);
    }

    private static PrivateKey privateKey(TlsSettings s) {
        String name = s.keys() + ".tls-key";
        String text = read(name, s.key());
        List<byte[]> keys = blocks(text, "PRIVATE KEY");
        if (keys.isEmpty()) {
            String hint = text.contains("ENCRYPTED PRIVATE KEY") ? "it is encrypted: "
                    : text.contains("RSA PRIVATE KEY") || text.contains("EC PRIVATE KEY") ? "it is not PKCS#8: " : "";
            throw new RpctlException(ExitCode.CONFIG, name + ": " + s.key() + " holds no unencrypted PKCS#8 key ("
                    + hint + "convert it with 'openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8')");
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(keys.get(0));
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException tryNext) {
                // the PEM block does not say its algorithm
            }
        }
        throw new RpctlException(ExitCode.CONFIG, name + ": " + s.key() + " holds a key of a kind rpctl cannot read"
                + " (RSA, EC and Ed25519 are)");
    }

    private static String read(String key, String file) {
        try {
            return Files.readString(Path.of(file), StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            throw new RpctlException(ExitCode.CONFIG, key + ": cannot read " + file + " ("
                    + RpctlException.rootMessage(e) + ")", e);
        }
    }

    private static List<byte[]> blocks(String pem, String type) {
        List<byte[]> out = new ArrayList<>();
        Matcher m = PEM.matcher(pem);
        while (m.find()) {
            if (m.group(1).equals(type)) {
                out.add(Base64.getMimeDecoder().decode(m.group(2)));
            }
        }
        return out;
    }

    /** tls-verify: none. The link is encrypted; who is at the other end is not checked. */
    private static final class TrustingAnyone implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
