package dev.riscvrelay.relay.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A server key manager that always hands out the current certificate of a {@link Supplier}: Netty's QUIC TLS
 * (BoringSSL) asks its key manager for the alias, chain and key during every handshake, so a renewed certificate is
 * used by the next connection while open connections keep theirs, without rebuilding the server.
 *
 * <p>The alias names the certificate (its hash), so a handshake that picked an alias just before a renewal still
 * gets a matching chain and key: both are looked up by the alias it chose, falling back to the one chosen last.
 */
public final class CurrentCertificateKeyManager extends X509ExtendedKeyManager {

    private final Supplier<RelayCertificate> current;
    /** The certificate the latest handshake chose, still served to it if a renewal happens meanwhile. */
    private volatile RelayCertificate lastChosen;

    public CurrentCertificateKeyManager(Supplier<RelayCertificate> current) {
        this.current = current;
    }

    private RelayCertificate byAlias(String alias) {
        RelayCertificate now = current.get();
        if (alias == null || alias.equals(now.sha256Hex())) {
            return now;
        }
        RelayCertificate chosen = lastChosen;
        return chosen != null && alias.equals(chosen.sha256Hex()) ? chosen : null;
    }

    private String currentAlias(String keyType) {
        RelayCertificate now = current.get();
        lastChosen = now;
        return keyType == null || keyTypeMatches(keyType, now) ? now.sha256Hex() : null;
    }

    /** BoringSSL asks with "EC" or "RSA" (and the EC_* / DH_* variants); answer only for our key's algorithm. */
    private static boolean keyTypeMatches(String keyType, RelayCertificate certificate) {
        String algorithm = certificate.privateKey().getAlgorithm();
        return keyType.equals(algorithm) || keyType.startsWith(algorithm + "_");
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return currentAlias(keyType);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return currentAlias(keyType);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        String alias = currentAlias(keyType);
        return alias == null ? null : new String[] {alias};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        RelayCertificate certificate = byAlias(alias);
        return certificate == null ? null : certificate.chain().toArray(X509Certificate[]::new);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        RelayCertificate certificate = byAlias(alias);
        return certificate == null ? null : certificate.privateKey();
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null; // a server identity only
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }
}
