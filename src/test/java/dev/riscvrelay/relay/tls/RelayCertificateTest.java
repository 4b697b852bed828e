package dev.riscvrelay.relay.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.tls.RelayCertificate.InvalidCertificateException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RelayCertificateTest {

    @TempDir
    Path dir;

    @Test
    void selfSignedIsEcdsaP256AndValidAtMostFourteenDays() throws Exception {
        Instant now = Instant.parse("2026-11-25T12:00:00Z");
        RelayCertificate certificate = RelayCertificate.selfSigned(List.of("localhost", "127.0.0.1"), now,
                RelayCertificate.MAX_HASH_PINNED_VALIDITY);

        assertThat(certificate.selfSigned()).isTrue();
        assertThat(certificate.leaf().getPublicKey()).isInstanceOf(ECPublicKey.class);
        assertThat(((ECPublicKey) certificate.leaf().getPublicKey()).getParams().getCurve().getField().getFieldSize())
                .isEqualTo(256);
        assertThat(certificate.leaf().getSigAlgName()).isEqualTo("SHA256withECDSA");
        Duration validity = Duration.between(certificate.leaf().getNotBefore().toInstant(),
                certificate.leaf().getNotAfter().toInstant());
        assertThat(validity).isLessThanOrEqualTo(Duration.ofDays(14));
        assertThat(certificate.leaf().getNotBefore().toInstant()).isBefore(now);
        assertThat(certificate.leaf().getNotAfter().toInstant()).isAfter(now.plus(Duration.ofDays(13)));
        certificate.leaf().verify(certificate.leaf().getPublicKey());
    }

    @Test
    void hashIsLowercaseHexSha256OfTheDerCertificate() throws Exception {
        RelayCertificate certificate = RelayCertificate.selfSignedForLocalhost();
        String expected = HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(certificate.leaf().getEncoded()));

        assertThat(certificate.sha256Hex()).isEqualTo(expected).matches("[0-9a-f]{64}");
    }

    @Test
    void refusesValidityBrowsersWouldReject() {
        assertThatThrownBy(() -> RelayCertificate.selfSigned(List.of("localhost"), Instant.now(), Duration.ofDays(15)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("14 days");
    }

    @Test
    void loadsPemChainAndMatchingKey() throws Exception {
        RelayCertificate original = RelayCertificate.selfSignedForLocalhost();
        Path cert = PemFiles.writeChain(dir.resolve("cert.pem"), original);
        Path key = PemFiles.writeKey(dir.resolve("key.pem"), original);

        RelayCertificate loaded = RelayCertificate.fromPem(cert, key);

        assertThat(loaded.selfSigned()).isFalse();
        assertThat(loaded.sha256Hex()).isEqualTo(original.sha256Hex());
        assertThat(loaded.privateKey().getEncoded()).isEqualTo(original.privateKey().getEncoded());
    }

    @Test
    void refusesKeyOfAnotherCertificate() throws Exception {
        Path cert = PemFiles.writeChain(dir.resolve("cert.pem"), RelayCertificate.selfSignedForLocalhost());
        Path otherKey = PemFiles.writeKey(dir.resolve("key.pem"), RelayCertificate.selfSignedForLocalhost());

        assertThatThrownBy(() -> RelayCertificate.fromPem(cert, otherKey))
                .isInstanceOf(InvalidCertificateException.class)
                .hasMessageContaining("does not belong");
    }

    @Test
    void explainsMissingAndEmptyFiles() throws Exception {
        Path missing = dir.resolve("missing.pem");
        Path empty = Files.writeString(dir.resolve("empty.pem"), "not a pem file\n");
        Path key = PemFiles.writeKey(dir.resolve("key.pem"), RelayCertificate.selfSignedForLocalhost());

        assertThatThrownBy(() -> RelayCertificate.fromPem(missing, key))
                .isInstanceOf(InvalidCertificateException.class)
                .hasMessage("cannot read certificate " + missing + ": no such file");
        assertThatThrownBy(() -> RelayCertificate.fromPem(empty, key))
                .isInstanceOf(InvalidCertificateException.class)
                .hasMessage("no PEM certificate found in " + empty);
        Path cert = PemFiles.writeChain(dir.resolve("cert.pem"), RelayCertificate.selfSignedForLocalhost());
        assertThatThrownBy(() -> RelayCertificate.fromPem(cert, empty))
                .isInstanceOf(InvalidCertificateException.class)
                .hasMessage("no unencrypted PEM private key found in " + empty);
    }

    /** Keys and certificates as openssl writes them: SEC1 "EC PRIVATE KEY" and PKCS#8 RSA. */
    @Test
    void loadsWhatOpensslWrites() throws Exception {
        Path ecKey = dir.resolve("ec-key.pem");
        Path ecCert = dir.resolve("ec-cert.pem");
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ecKey.toString());
        openssl("req", "-x509", "-key", ecKey.toString(), "-out", ecCert.toString(), "-days", "30",
                "-subj", "/CN=relay.example");
        assertThat(Files.readString(ecKey)).contains("BEGIN EC PRIVATE KEY");
        assertThat(RelayCertificate.fromPem(ecCert, ecKey).leaf().getSubjectX500Principal().getName())
                .isEqualTo("CN=relay.example");

        Path rsaKey = dir.resolve("rsa-key.pem");
        Path rsaCert = dir.resolve("rsa-cert.pem");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", rsaKey.toString(), "-out",
                rsaCert.toString(), "-days", "30", "-subj", "/CN=relay.example");
        assertThat(RelayCertificate.fromPem(rsaCert, rsaKey).privateKey().getAlgorithm()).isEqualTo("RSA");
        assertThatThrownBy(() -> RelayCertificate.fromPem(ecCert, rsaKey))
                .isInstanceOf(InvalidCertificateException.class)
                .hasMessageContaining("does not belong");
    }

    private static void openssl(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as("openssl %s: %s", args[0], output).isZero();
    }
}
