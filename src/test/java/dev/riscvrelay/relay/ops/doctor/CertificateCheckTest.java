package dev.riscvrelay.relay.ops.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.tls.CertificateManager;
import dev.riscvrelay.relay.tls.PemFiles;
import dev.riscvrelay.relay.tls.RelayCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The certificate check on real PEM files: valid, expiring, expired, not yet valid, mismatched, kept. */
class CertificateCheckTest {

    private static final Instant NOW = Instant.parse("2026-06-01T00:00:00Z");

    @TempDir
    Path dir;

    private final FakeHost host = new FakeHost();

    {
        host.now = NOW;
    }

    private Finding checkFiles(Instant notBefore, Duration validity) throws Exception {
        RelayCertificate certificate = RelayCertificate.selfSigned(List.of("relay.example"), notBefore, validity);
        Path chain = PemFiles.writeChain(dir.resolve("fullchain.pem"), certificate);
        Path key = PemFiles.writeKey(dir.resolve("privkey.pem"), certificate);
        return new CertificateCheck(chain, key, null).run(host);
    }

    @Test
    void aCertificateValidForWeeksIsFine() throws Exception {
        Finding finding = checkFiles(NOW, Duration.ofDays(14));
        assertThat(finding.severity()).isEqualTo(Severity.OK);
        assertThat(finding.what()).contains("CN=", "valid until 2026-06-14", "(13 days)");
    }

    @Test
    void aCertificateExpiringWithinAWeekWarns() throws Exception {
        Finding finding = checkFiles(NOW.minus(Duration.ofDays(10)), Duration.ofDays(14));
        assertThat(finding.severity()).isEqualTo(Severity.WARN);
        assertThat(finding.what()).contains("in 95 hours");
    }

    @Test
    void anExpiredOrNotYetValidCertificateFails() throws Exception {
        Finding expired = checkFiles(NOW.minus(Duration.ofDays(15)), Duration.ofDays(14));
        assertThat(expired.severity()).isEqualTo(Severity.FAIL);
        assertThat(expired.what()).contains("expired at");
        Finding early = checkFiles(NOW.plus(Duration.ofDays(2)), Duration.ofDays(14));
        assertThat(early.severity()).isEqualTo(Severity.FAIL);
        assertThat(early.what()).contains("not valid before");
    }

    @Test
    void aKeyThatDoesNotMatchFails() throws Exception {
        RelayCertificate one = RelayCertificate.selfSigned(List.of("a.example"), NOW, Duration.ofDays(10));
        RelayCertificate other = RelayCertificate.selfSigned(List.of("b.example"), NOW, Duration.ofDays(10));
        Path chain = PemFiles.writeChain(dir.resolve("fullchain.pem"), one);
        Path key = PemFiles.writeKey(dir.resolve("privkey.pem"), other);
        assertThat(new CertificateCheck(chain, key, null).run(host).severity()).isEqualTo(Severity.FAIL);
        assertThat(new CertificateCheck(dir.resolve("missing.pem"), key, null).run(host).severity())
                .isEqualTo(Severity.FAIL);
    }

    @Test
    void withoutFilesTheGeneratedCertificateIsFineAndAKeptOneIsRead() throws Exception {
        assertThat(new CertificateCheck(null, null, null).run(host).what()).contains("made at start",
                "--state-dir keeps it");
        RelayCertificate kept = RelayCertificate.selfSigned(List.of("localhost"), NOW.minus(Duration.ofDays(1)),
                Duration.ofDays(14));
        PemFiles.writeChain(dir.resolve(CertificateManager.CERTIFICATE_FILE), kept);
        PemFiles.writeKey(dir.resolve(CertificateManager.KEY_FILE), kept);
        Finding finding = new CertificateCheck(null, null, dir).run(host);
        assertThat(finding.severity()).isEqualTo(Severity.OK);
        assertThat(finding.what()).contains("kept in " + dir + " is valid until 2026-06-13T23:00:00Z");

        host.now = NOW.plus(Duration.ofDays(12));
        assertThat(new CertificateCheck(null, null, dir).run(host).what()).contains("is due");
        Files.writeString(dir.resolve(CertificateManager.KEY_FILE), "not a key");
        assertThat(new CertificateCheck(null, null, dir).run(host).severity()).isEqualTo(Severity.WARN);
    }
}
