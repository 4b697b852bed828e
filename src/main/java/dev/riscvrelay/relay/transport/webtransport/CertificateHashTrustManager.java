package dev.riscvrelay.relay.transport.webtransport;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts exactly the server certificate whose DER encoding has a given SHA-256 hash, like a browser's
 * {@code serverCertificateHashes}: no CA chain and no host name, but the certificate must be valid now.
 * Remembers the last mismatch so the client can explain a failed handshake.
 */
public final class CertificateHashTrustManager extends X509ExtendedTrustManager {

    private final byte[] expected;
    private volatile String lastRejection;

    public CertificateHashTrustManager(String sha256Hex) {
        this.expected = HexFormat.of().parseHex(sha256Hex);
    }

    String lastRejection() {
        return lastRejection;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw reject("the server sent no certificate");
        }
        byte[] actual;
        try {
            actual = MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded());
        } catch (GeneralSecurityException e) {
            throw new CertificateException("cannot hash the server certificate", e);
        }
        if (!MessageDigest.isEqual(expected, actual)) {
            throw reject("server certificate SHA-256 is " + HexFormat.of().formatHex(actual)
                    + ", expected " + HexFormat.of().formatHex(expected));
        }
        try {
            chain[0].checkValidity();
        } catch (CertificateException e) {
            throw reject("the pinned server certificate is not valid now: " + e.getMessage());
        }
    }

    private CertificateException reject(String why) {
        lastRejection = why;
        return new CertificateException(why);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a client does not check client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
