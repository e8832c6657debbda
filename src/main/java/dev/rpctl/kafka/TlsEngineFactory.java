package dev.rpctl.kafka;

import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.security.auth.SslEngineFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.security.KeyStore;
import java.util.Map;
import java.util.Set;

/**
 * The Kafka clients' TLS engines, made from the context {@link dev.rpctl.tls.Tls} builds for
 * every server rpctl talks to: the same PEM files, the same checks and the same
 * {@code tls-verify: none} as MySQL's and Redis'. Kafka creates it by class name and hands it the
 * context in the client's properties ({@link #CONTEXT}); the host name is checked when the
 * client's ssl.endpoint.identification.algorithm says so.
 */
public final class TlsEngineFactory implements SslEngineFactory {
    /** The client property that carries the {@link SSLContext}. */
    static final String CONTEXT = "rpctl.tls.context";

    private SSLContext context;

    @Override
    public void configure(Map<String, ?> configs) {
        Object c = configs.get(CONTEXT);
        if (!(c instanceof SSLContext ctx)) {
            throw new ConfigException(CONTEXT + " is not set: rpctl's Kafka clients set it with their TLS settings");
        }
        context = ctx;
    }

    @Override
    public SSLEngine createClientSslEngine(String peerHost, int peerPort, String endpointIdentification) {
        SSLEngine engine = context.createSSLEngine(peerHost, peerPort);
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        if (endpointIdentification != null && !endpointIdentification.isEmpty()) {
            p.setEndpointIdentificationAlgorithm(endpointIdentification);
        }
        engine.setSSLParameters(p);
        return engine;
    }

    @Override
    public SSLEngine createServerSslEngine(String peerHost, int peerPort) {
        throw new UnsupportedOperationException("rpctl's Kafka TLS is for clients only");
    }

    @Override
    public boolean shouldBeRebuilt(Map<String, Object> nextConfigs) {
        return false;
    }

    @Override
    public Set<String> reconfigurableConfigs() {
        return Set.of();
    }

    @Override
    public KeyStore keystore() {
        return null;
    }

    @Override
    public KeyStore truststore() {
        return null;
    }

    @Override
    public void close() {
    }
}
