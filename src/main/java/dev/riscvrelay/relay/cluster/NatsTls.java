package dev.riscvrelay.relay.cluster;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Whom the relay trusts as NATS servers over TLS: the CAs of {@code --cluster-ca}, or the JVM's own. One trust for
 * both connections, the trunk link's (Netty) and jnats's.
 */
final class NatsTls {

    private final TrustManagerFactory trust;

    private NatsTls(TrustManagerFactory trust) {
        this.trust = trust;
    }

    /** The JVM's trusted CAs. */
    static NatsTls jvmDefault() {
        return new NatsTls(null);
    }

    /**
     * The CA certificates in the PEM file {@code ca}.
     *
     * @throws IllegalArgumentException with a one-line reason when it cannot be read or holds no certificate
     */
    static NatsTls fromPem(Path ca) {
        try (InputStream in = Files.newInputStream(ca)) {
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(in);
            if (certificates.isEmpty()) {
                throw new IllegalArgumentException("--cluster-ca: no certificate in " + ca);
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int n = 0;
            for (Certificate certificate : certificates) {
                store.setCertificateEntry("ca-" + n++, certificate);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return new NatsTls(factory);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("--cluster-ca: cannot read CA certificates from " + ca + " ("
                    + e.getMessage() + ")");
        }
    }

    /** Whether the operator gave CAs of their own (then jnats speaks TLS to every server). */
    boolean custom() {
        return trust != null;
    }

    /** For the trunk link. */
    SslContext nettyContext() throws SSLException {
        SslContextBuilder builder = SslContextBuilder.forClient();
        if (trust != null) {
            builder.trustManager(trust);
        }
        return builder.build();
    }

    /** For jnats. */
    SSLContext jdkContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust == null ? null : trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JVM: " + e.getMessage(), e);
        }
    }
}
