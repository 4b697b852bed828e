package dev.riscvrelay.relay.browser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS toward the relay's self-signed certificate the way its users trust it: by the SHA-256 of the certificate the
 * relay prints, nothing else (no CA, no name check: the relay is reached by an IP literal its certificate need not
 * name). For the relay's {@code wss://} listener and its page over HTTPS.
 */
final class PinnedTls {

    private PinnedTls() {}

    /** A TLS context that accepts exactly the server certificate whose DER hashes to {@code sha256Hex}. */
    static SSLContext context(String sha256Hex) {
        return context(sha256Hex, new AtomicReference<>());
    }

    /**
     * Chromium's {@code --ignore-certificate-errors-spki-list} value for the relay's TLS certificate at
     * {@code host:port}: base64 of the SHA-256 of its SubjectPublicKeyInfo, read from a handshake that checks the
     * certificate against {@code sha256Hex} first. Chromium's stand-in for "open https://HOST:4433/ once and accept
     * the warning", which is what the README tells a user of the self-signed certificate to do.
     */
    static String spkiPin(String host, int port, String sha256Hex) {
        AtomicReference<X509Certificate> seen = new AtomicReference<>();
        SSLContext tls = context(sha256Hex, seen);
        try (Socket tcp = new Socket()) {
            tcp.connect(new InetSocketAddress(host, port), 5000);
            tcp.setSoTimeout(10_000);
            try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(tcp, host, port, false)) {
                socket.startHandshake();
            }
            byte[] spki = seen.get().getPublicKey().getEncoded();
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(spki));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static SSLContext context(String sha256Hex, AtomicReference<X509Certificate> seen) {
        TrustManager pinned = new X509ExtendedTrustManager() {
            private void check(X509Certificate[] chain) throws CertificateException {
                if (chain == null || chain.length == 0) throw new CertificateException("no certificate");
                try {
                    String hash = HexFormat.of().formatHex(
                            MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded()));
                    if (!hash.equals(sha256Hex)) {
                        throw new CertificateException("certificate hash " + hash + ", expected " + sha256Hex);
                    }
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new CertificateException(e);
                }
                seen.set(chain[0]);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                    throws CertificateException {
                check(chain);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                    throws CertificateException {
                check(chain);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                check(chain);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                    throws CertificateException {
                throw new CertificateException("client side only");
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                    throws CertificateException {
                throw new CertificateException("client side only");
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                throw new CertificateException("client side only");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, new TrustManager[] {pinned}, null);
            return tls;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
