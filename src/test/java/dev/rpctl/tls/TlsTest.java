package dev.rpctl.tls;

import dev.rpctl.config.TlsSettings;
import dev.rpctl.config.TlsVerify;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad TLS files are configuration problems (78) naming the key and the file, at start. */
class TlsTest {
    @TempDir
    Path dir;

    private static TlsSettings tls(String ca, String cert, String key) {
        return new TlsSettings(true, ca, TlsVerify.FULL, cert, key, "side-a");
    }

    private static String refused(TlsSettings s) {
        RpctlException e = assertThrows(RpctlException.class, () -> Tls.context(s));
        assertEquals(ExitCode.CONFIG, e.exitCode());
        return e.getMessage();
    }

    @Test
    void a_missing_ca_file_names_the_key_and_the_file() {
        String m = refused(tls(dir.resolve("nope.pem").toString(), "", ""));
        assertTrue(m.startsWith("side-a.tls-ca: cannot read " + dir.resolve("nope.pem")), m);
    }

    @Test
    void a_ca_file_without_a_certificate_says_what_is_expected() throws Exception {
        Path f = Files.writeString(dir.resolve("ca.pem"), "not a certificate\n");
        String m = refused(tls(f.toString(), "", ""));
        assertTrue(m.contains("side-a.tls-ca: " + f + " holds no certificate; expected a PEM file"), m);
    }

    @Test
    void a_client_certificate_without_its_key_names_the_missing_key() throws Exception {
        String m = refused(tls("", dir.resolve("client.pem").toString(), ""));
        assertTrue(m.startsWith("side-a.tls-cert is set but side-a.tls-key is blank"), m);
    }

    @Test
    void a_failure_that_is_not_about_the_certificate_is_not_a_tls_refusal() {
        assertNull(Tls.refused(tls("", "", ""), "redis side a", "h:1", new java.net.ConnectException("refused")));
        Exception handshake = new javax.net.ssl.SSLHandshakeException("x");
        handshake.initCause(new java.security.cert.CertificateException("bad"));
        assertNull(Tls.refused(TlsSettings.off("side-a"), "redis side a", "h:1", handshake));
        assertTrue(Tls.refused(tls("", "", ""), "redis side a", "h:1", handshake).getMessage()
                .startsWith("redis side a at h:1: the server's TLS certificate does not verify (bad)"));
    }

    /** A self-signed certificate made by the JDK's keytool, valid from {@code start} (keytool's -startdate, e.g. -3d) for {@code days}. */
    private Path certificate(String cn, String start, int days) throws Exception {
        Path store = dir.resolve(cn + ".p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(keytool, "-genkeypair", "-keystore", store.toString(), "-storepass", "changeit", "-alias", cn, "-keyalg", "EC",
                "-dname", "CN=" + cn, "-startdate", start, "-validity", Integer.toString(days));
        String pem = run(keytool, "-exportcert", "-rfc", "-keystore", store.toString(), "-storepass", "changeit", "-alias", cn);
        return Files.writeString(dir.resolve(cn + ".pem"), pem);
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    /** What Tls logs at WARN while {@code body} runs. */
    private static List<String> warnings(ThrowingRunnable body) throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(Tls.class);
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        logger.addAppender(seen);
        try {
            body.run();
        } finally {
            logger.detachAppender(seen);
        }
        return seen.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void an_expired_client_certificate_is_refused_at_start_with_its_date() throws Exception {
        Path cert = certificate("expired", "-3d", 1);
        String m = refused(tls("", cert.toString(), dir.resolve("client.key").toString()));
        assertTrue(m.matches("side-a\\.tls-cert: \\Q" + cert + "\\E \\(CN=expired\\) expired on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC;"
                + " servers refuse it: renew it"), m);
    }

    @Test
    void a_client_certificate_not_valid_yet_is_refused_naming_the_clock() throws Exception {
        Path cert = certificate("future", "+2d", 30);
        String m = refused(tls("", cert.toString(), dir.resolve("client.key").toString()));
        assertTrue(m.contains("(CN=future) is not valid until "), m);
        assertTrue(m.endsWith("(check this host's clock)"), m);
    }

    @Test
    void a_certificate_that_ends_within_30_days_is_warned_about_once() throws Exception {
        Path ca = certificate("soon", "-1d", 11);
        TlsSettings s = tls(ca.toString(), "", "");
        List<String> w = warnings(() -> {
            Tls.context(s);
            Tls.context(s);
        });
        assertEquals(1, w.size(), w::toString);
        assertTrue(w.get(0).matches("side-a\\.tls-ca: \\Q" + ca + "\\E \\(CN=soon\\) expires on \\S+ \\S+ UTC, in 10 days;"
                + " renew it before then"), w.get(0));
        // a year's certificate says nothing
        Path fresh = certificate("fresh", "-1d", 365);
        assertEquals(List.of(), warnings(() -> Tls.context(tls(fresh.toString(), "", ""))));
    }

    @Test
    void an_expired_ca_certificate_is_warned_about_not_refused() throws Exception {
        Path ca = certificate("old-ca", "-10d", 2);
        List<String> w = warnings(() -> Tls.context(tls(ca.toString(), "", "")));
        assertEquals(1, w.size(), w::toString);
        assertTrue(w.get(0).contains("holds a certificate that expired on "), w.get(0));
        assertTrue(w.get(0).endsWith("(CN=old-ca); a server whose chain ends at it does not verify"), w.get(0));

        // a bundle says it once for all its expired certificates
        Path bundle = Files.writeString(dir.resolve("bundle.pem"), Files.readString(ca)
                + Files.readString(certificate("older-ca", "-20d", 2)) + Files.readString(certificate("good-ca", "-1d", 365)));
        List<String> once = warnings(() -> Tls.context(tls(bundle.toString(), "", "")));
        assertEquals(1, once.size(), once::toString);
        assertTrue(once.get(0).contains("holds 2 certificates past their end (the first, CN=old-ca, expired on "), once.get(0));
    }
}
