package dev.riscvrelay.relay.ops.doctor;

import dev.riscvrelay.relay.tls.CertificateManager;
import dev.riscvrelay.relay.tls.RelayCertificate;
import dev.riscvrelay.relay.tls.RelayCertificate.InvalidCertificateException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;

/**
 * The certificate the relay would serve: CA-issued files ({@code --cert-pem}, {@code --key-pem}) must load, match
 * and be valid for a while yet; a self-signed one kept in {@code --state-dir} is renewed by the relay itself.
 */
public final class CertificateCheck implements Check {

    static final String NAME = "certificate";
    /** Less than this left on a CA-issued certificate is worth a warning: renewals usually run 30 days ahead. */
    static final Duration RENEW_AHEAD = Duration.ofDays(7);

    private final Path certificatePem;
    private final Path keyPem;
    private final Path stateDirectory;

    /** Either both files or neither; {@code stateDirectory} may be null. */
    public CertificateCheck(Path certificatePem, Path keyPem, Path stateDirectory) {
        this.certificatePem = certificatePem;
        this.keyPem = keyPem;
        this.stateDirectory = stateDirectory;
    }

    @Override
    public Finding run(HostFacts host) {
        if (certificatePem != null) {
            return issued(host.now());
        }
        if (stateDirectory != null && Files.isRegularFile(stateDirectory.resolve(CertificateManager.CERTIFICATE_FILE))) {
            return kept(host.now());
        }
        return Finding.ok(NAME, "a self-signed certificate valid for 14 days is made at start, with a new hash at "
                + "every start" + (stateDirectory == null ? " (--state-dir keeps it across restarts)" : ""));
    }

    private Finding issued(Instant now) {
        RelayCertificate certificate;
        try {
            certificate = RelayCertificate.fromPem(certificatePem, keyPem);
        } catch (InvalidCertificateException e) {
            return Finding.fail(NAME, e.getMessage(), "give a readable PEM chain (leaf first) and its unencrypted key");
        }
        X509Certificate leaf = certificate.leaf();
        Instant notBefore = leaf.getNotBefore().toInstant();
        Instant notAfter = leaf.getNotAfter().toInstant();
        String subject = leaf.getSubjectX500Principal().getName();
        if (now.isBefore(notBefore)) {
            return Finding.fail(NAME, subject + " is not valid before " + notBefore, "check the host's clock, or "
                    + "wait until then");
        }
        if (!now.isBefore(notAfter)) {
            return Finding.fail(NAME, subject + " expired at " + notAfter + ": clients refuse it",
                    "renew it (e.g. certbot renew); the relay reads the files again when they change");
        }
        Duration left = Duration.between(now, notAfter);
        if (left.compareTo(RENEW_AHEAD) < 0) {
            return Finding.warn(NAME, subject + " expires at " + notAfter + ", in " + left.toHours() + " hours",
                    "renew it now; the relay reads the files again when they change");
        }
        return Finding.ok(NAME, subject + " is valid until " + notAfter + " (" + left.toDays() + " days)");
    }

    private Finding kept(Instant now) {
        Path directory = stateDirectory;
        try {
            RelayCertificate kept = RelayCertificate.fromPem(directory.resolve(CertificateManager.CERTIFICATE_FILE),
                    directory.resolve(CertificateManager.KEY_FILE));
            Instant notAfter = kept.leaf().getNotAfter().toInstant();
            if (CertificateManager.dueForRenewal(kept.leaf(), now)) {
                return Finding.ok(NAME, "the certificate kept in " + directory + " (valid until " + notAfter
                        + ") is due: the relay makes a new one at start, with a new hash");
            }
            return Finding.ok(NAME, "the certificate kept in " + directory + " is valid until " + notAfter
                    + "; the relay renews it when a third of its validity is left");
        } catch (InvalidCertificateException e) {
            return Finding.warn(NAME, "the certificate kept in " + directory + " cannot be used (" + e.getMessage()
                    + "): the relay makes a new one at start, with a new hash", "nothing, or remove the files");
        }
    }
}
