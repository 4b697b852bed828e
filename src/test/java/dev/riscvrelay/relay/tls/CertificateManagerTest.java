package dev.riscvrelay.relay.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateManagerTest {

    private static final Duration FOURTEEN_DAYS = Duration.ofDays(14);

    @TempDir
    Path dir;

    /** A clock the test moves by hand. */
    private static final class ManualClock implements InstantSource {
        Instant now = Instant.parse("2026-11-25T12:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void aRestartWithTheSameStateDirectoryKeepsTheHashAndTheKeyStaysPrivate() throws Exception {
        ManualClock clock = new ManualClock();
        Path state = dir.resolve("state");
        CertificateManager first = CertificateManager.selfSigned(state, FOURTEEN_DAYS, clock);
        assertThat(first.reusedFromState()).isFalse();

        clock.now = clock.now.plus(Duration.ofDays(3));
        CertificateManager second = CertificateManager.selfSigned(state, FOURTEEN_DAYS, clock);

        assertThat(second.reusedFromState()).isTrue();
        assertThat(second.current().sha256Hex()).isEqualTo(first.current().sha256Hex());
        assertThat(second.current().selfSigned()).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
                state.resolve(CertificateManager.KEY_FILE)))).isEqualTo("rw-------");
        assertThat(Files.readString(state.resolve(CertificateManager.KEY_FILE))).contains("BEGIN PRIVATE KEY");
    }

    @Test
    void aSavedCertificateDueForRenewalIsReplacedAtStart() throws Exception {
        ManualClock clock = new ManualClock();
        String before = CertificateManager.selfSigned(dir, FOURTEEN_DAYS, clock).current().sha256Hex();

        clock.now = clock.now.plus(Duration.ofDays(10)); // less than a third of 14 days left
        CertificateManager restarted = CertificateManager.selfSigned(dir, FOURTEEN_DAYS, clock);

        assertThat(restarted.reusedFromState()).isFalse();
        assertThat(restarted.current().sha256Hex()).isNotEqualTo(before);
        assertThat(CertificateManager.selfSigned(dir, FOURTEEN_DAYS, clock).current().sha256Hex())
                .as("the replacement is saved").isEqualTo(restarted.current().sha256Hex());
    }

    @Test
    void renewsOnceLessThanAThirdOfTheValidityIsLeftAndTellsListeners() throws Exception {
        ManualClock clock = new ManualClock();
        CertificateManager manager = CertificateManager.selfSigned(null, FOURTEEN_DAYS, clock);
        RelayCertificate original = manager.current();
        List<String> announced = new ArrayList<>();
        manager.onChange(certificate -> announced.add(certificate.sha256Hex()));

        clock.now = clock.now.plus(Duration.ofDays(9));
        assertThat(manager.refresh()).as("4+ days left of 14: not yet").isFalse();
        assertThat(manager.current()).isSameAs(original);

        clock.now = clock.now.plus(Duration.ofDays(1));
        assertThat(manager.refresh()).isTrue();
        assertThat(manager.current().sha256Hex()).isNotEqualTo(original.sha256Hex());
        assertThat(manager.current().leaf().getNotAfter().toInstant()).isAfter(clock.now.plus(Duration.ofDays(13)));
        assertThat(announced).containsExactly(manager.current().sha256Hex());
        assertThat(manager.refresh()).as("the fresh one is not due").isFalse();
    }

    @Test
    void aShortValidityForTestingLiesMostlyAheadAndIsCheckedOften() throws Exception {
        ManualClock clock = new ManualClock();
        CertificateManager manager = CertificateManager.selfSigned(null, Duration.ofSeconds(12), clock);

        assertThat(manager.current().leaf().getNotAfter().toInstant()).isEqualTo(clock.now.plusSeconds(9));
        assertThat(manager.checkInterval()).isEqualTo(Duration.ofMillis(1200));
        assertThat(CertificateManager.selfSigned(null, FOURTEEN_DAYS, clock).checkInterval())
                .isEqualTo(Duration.ofMinutes(1));
    }

    @Test
    void changedPemFilesAreReadAgainAndABrokenPairKeepsTheOldIdentity() throws Exception {
        Path certificate = dir.resolve("fullchain.pem");
        Path key = dir.resolve("privkey.pem");
        RelayCertificate first = RelayCertificate.selfSigned(List.of("relay.test"), Instant.now(), FOURTEEN_DAYS);
        PemFiles.writeChain(certificate, first);
        PemFiles.writeKey(key, first);
        CertificateManager manager = CertificateManager.fromPem(certificate, key, InstantSource.system());
        assertThat(manager.refresh()).as("unchanged files").isFalse();

        RelayCertificate second = RelayCertificate.selfSigned(List.of("relay.test"), Instant.now(), FOURTEEN_DAYS);
        // A renewal caught half-way: the new certificate beside the old key.
        PemFiles.writeChain(certificate, second);
        Files.setLastModifiedTime(certificate, java.nio.file.attribute.FileTime.from(Instant.now().plusSeconds(5)));
        assertThat(manager.refresh()).isFalse();
        assertThat(manager.current().sha256Hex()).isEqualTo(first.sha256Hex());

        PemFiles.writeKey(key, second);
        Files.setLastModifiedTime(key, java.nio.file.attribute.FileTime.from(Instant.now().plusSeconds(10)));
        assertThat(manager.refresh()).isTrue();
        assertThat(manager.current().sha256Hex()).isEqualTo(second.sha256Hex());
        assertThat(manager.current().selfSigned()).isFalse();
    }

    @Test
    void aSharedSelfSignedIdentityIsAdoptedSavedAndAnnouncedButNotOneDueOrForeign() throws Exception {
        ManualClock clock = new ManualClock();
        Path state = dir.resolve("adopting");
        CertificateManager manager = CertificateManager.selfSigned(state, FOURTEEN_DAYS, clock);
        List<String> announced = new ArrayList<>();
        manager.onChange(next -> announced.add(next.sha256Hex()));
        RelayCertificate shared = RelayCertificate.selfSigned(List.of("localhost"), clock.instant(), FOURTEEN_DAYS);

        assertThat(manager.adopt(shared)).isTrue();
        assertThat(manager.current().sha256Hex()).isEqualTo(shared.sha256Hex());
        assertThat(announced).containsExactly(shared.sha256Hex());
        assertThat(CertificateManager.selfSigned(state, FOURTEEN_DAYS, clock).current().sha256Hex())
                .as("kept for the next start").isEqualTo(shared.sha256Hex());
        assertThat(manager.adopt(shared)).as("the same one again").isFalse();

        RelayCertificate old = RelayCertificate.selfSigned(List.of("localhost"),
                clock.instant().minus(Duration.ofDays(12)), FOURTEEN_DAYS);
        assertThat(manager.adopt(old)).as("due for renewal").isFalse();
        assertThat(CertificateManager.fixed(shared).adopt(RelayCertificate.selfSigned(List.of("localhost"),
                clock.instant(), FOURTEEN_DAYS))).as("a fixed identity stays").isFalse();
        assertThat(announced).hasSize(1);
    }
}
