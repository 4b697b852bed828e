package dev.riscvrelay.relay.tls;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** Writes certificates and keys as PEM files, as an operator's CA tooling would hand them over. */
public final class PemFiles {

    private PemFiles() {}

    public static Path writeChain(Path file, RelayCertificate certificate) throws IOException {
        try (Writer writer = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(writer)) {
            for (X509Certificate each : certificate.chain()) {
                pem.writeObject(each);
            }
        }
        return file;
    }

    public static Path writeKey(Path file, RelayCertificate certificate) throws IOException {
        try (Writer writer = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(writer)) {
            // PKCS#8 ("PRIVATE KEY"), as openssl and certbot write keys today.
            pem.writeObject(new JcaPKCS8Generator(certificate.privateKey(), null));
        }
        return file;
    }
}
