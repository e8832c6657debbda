package dev.rpctl.db;

import dev.rpctl.config.TlsSettings;
import dev.rpctl.config.TlsVerify;
import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.tls.Tls;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;

/**
 * The driver's TLS settings for one server. The driver reads its trust and key stores from
 * files, not from PEM: the PEM files of the configuration are turned into PKCS#12 stores in
 * files only this process's user can read, under a random password, deleted on close.
 */
final class JdbcTls implements AutoCloseable {
    private final TlsSettings settings;
    private final List<Path> files = new ArrayList<>();
    private Properties properties;

    JdbcTls(TlsSettings settings) {
        this.settings = settings;
    }

    /** The sslMode of the JDBC URL. */
    String sslMode() {
        if (!settings.on()) {
            return "DISABLED";
        }
        return switch (settings.verify()) {
            case FULL -> "VERIFY_IDENTITY";
            case CA -> "VERIFY_CA";
            case NONE -> "REQUIRED";
        };
    }

    /** The stores and their passwords, as driver properties (passwords never go into the URL). */
    synchronized Properties properties() {
        if (properties == null) {
            Properties p = new Properties();
            if (settings.on()) {
                if (settings.verify() != TlsVerify.NONE && !settings.ca().isBlank()) {
                    char[] password = password();
                    Path store = write("rpctl-trust-", Tls.trustStore(settings), password);
                    p.setProperty("trustCertificateKeyStoreUrl", store.toUri().toString());
                    p.setProperty("trustCertificateKeyStoreType", "PKCS12");
                    p.setProperty("trustCertificateKeyStorePassword", new String(password));
                    p.setProperty("fallbackToSystemTrustStore", "false");
                }
                if (settings.hasClientCertificate()) {
                    char[] password = password();
                    Path store = write("rpctl-client-", Tls.keyStore(settings, password), password);
                    p.setProperty("clientCertificateKeyStoreUrl", store.toUri().toString());
                    p.setProperty("clientCertificateKeyStoreType", "PKCS12");
                    p.setProperty("clientCertificateKeyStorePassword", new String(password));
                }
            }
            properties = p;
        }
        Properties copy = new Properties();
        copy.putAll(properties);
        return copy;
    }

    private static char[] password() {
        byte[] b = new byte[18];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b).toCharArray();
    }

    private Path write(String prefix, KeyStore store, char[] password) {
        try {
            Path f = Files.createTempFile(prefix, ".p12", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
            files.add(f);
            f.toFile().deleteOnExit();
            try (OutputStream out = Files.newOutputStream(f)) {
                store.store(out, password);
            }
            return f;
        } catch (IOException | GeneralSecurityException e) {
            throw new RpctlException(ExitCode.CONFIG, settings.keys() + ": cannot write the driver's TLS store to the"
                    + " temporary directory (" + RpctlException.rootMessage(e) + ")", e);
        }
    }

    @Override
    public synchronized void close() {
        for (Path f : files) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // deleteOnExit tries again
            }
        }
        files.clear();
        properties = null;
    }
}
