package dev.rpctl.tls;

import dev.rpctl.config.TlsSettings;
import dev.rpctl.config.TlsVerify;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

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
}
