package dev.riscvrelay.relay.ops;

import static dev.riscvrelay.relay.ops.OperationsIT.curl;
import static dev.riscvrelay.relay.ops.OperationsIT.metricValue;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.testbed.RelayProcess;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A renewal forced by a 30-second self-signed validity, against the real relay process: the relay renews without a
 * restart, an open session keeps exchanging frames past the old certificate's expiry, a client pinned to the new
 * hash connects and one pinned to the old hash is refused.
 */
class CertificateRotationIT {

    /**
     * With 30 s, notBefore is 7.5 s back and notAfter 22.5 s ahead; renewal comes with less than 10 s left, 12.5 s
     * after start: time enough for the JVM and the first client, short enough for a test.
     */
    private static final String VALIDITY = "30s";

    @Test
    void renewsWithoutRestartWhileOpenSessionsStayUp() throws Exception {
        try (RelayProcess relay = RelayProcess.start("cert-rotation", List.of("--cert-validity", VALIDITY))) {
            String oldHash = relay.certificateHash();
            Instant oldNotAfter = Instant.parse(notAfter(curl("-s", relay.adminUrl("/healthz")).stdout()));
            LanClient early = LanClient.connect(relay.port(), oldHash, 0x02_00_00_00_02_01L).get(20, TimeUnit.SECONDS);
            try {
                assertThat(early.resolveGateway("10.0.2.30")).isEqualTo(LanClient.GATEWAY_MAC);

                String newHash = awaitRenewal(relay, oldHash);
                assertThat(curl("-s", relay.adminUrl("/cert-hash")).stdout()).isEqualTo(newHash);
                assertThat(metricValue(curl("-s", relay.adminUrl("/metrics")).stdout(),
                        "relay_certificate_renewals_total")).isGreaterThanOrEqualTo(1);

                // The open session outlives its certificate: TLS checked it once, at the handshake.
                while (Instant.now().isBefore(oldNotAfter.plusSeconds(1))) {
                    assertThat(early.resolveGateway("10.0.2.30")).isEqualTo(LanClient.GATEWAY_MAC);
                    Thread.sleep(250);
                }
                assertThat(early.client.closed()).isNotDone();

                String currentHash = relay.certificateHashes().getLast();
                LanClient late = LanClient.connect(relay.port(), currentHash, 0x02_00_00_00_02_02L)
                        .get(20, TimeUnit.SECONDS);
                try {
                    assertThat(late.resolveGateway("10.0.2.31")).isEqualTo(LanClient.GATEWAY_MAC);
                    assertThat(early.resolveGateway("10.0.2.30")).isEqualTo(LanClient.GATEWAY_MAC);
                } finally {
                    late.close();
                }

                assertThatThrownBy(() -> LanClient.connect(relay.port(), oldHash, 0x02_00_00_00_02_03L)
                        .get(20, TimeUnit.SECONDS))
                        .as("a client pinned to the replaced certificate").isInstanceOf(ExecutionException.class);
            } finally {
                early.close();
            }
        }
    }

    private static String notAfter(String health) {
        Matcher m = Pattern.compile("\"certificateNotAfter\":\"([^\"]+)\"").matcher(health);
        assertThat(m.find()).as("notAfter in " + health).isTrue();
        return m.group(1);
    }

    private static String awaitRenewal(RelayProcess relay, String oldHash) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (System.nanoTime() < deadline) {
            List<String> hashes = relay.certificateHashes();
            if (hashes.size() > 1) {
                assertThat(hashes.getLast()).isNotEqualTo(oldHash);
                return hashes.getLast();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no renewal within 40 s; relay output:\n" + String.join("\n", relay.output()));
    }
}
