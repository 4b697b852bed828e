package dev.riscvrelay.relay.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.ConnectorProcess.RelayEndpoint;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.RelayProcess;
import dev.riscvrelay.relay.tls.PemFiles;
import dev.riscvrelay.relay.tls.RelayCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The relay restarts under traffic. It keeps its certificate across the restart (--cert-pem/--key-pem, as an
 * operator would), so the connectors' pinned hash stays right; they reconnect by themselves and pings between
 * the two hosts resume within seconds, while the hosts keep their TAPs and addresses.
 */
class RelayRestartIT {

    @Test
    void connectorsReconnectAfterARelayRestartAndPingsResume() throws Exception {
        NetnsTestBed.requireTools("ip", "ping");
        Path dir = Files.createTempDirectory("rr-restart");
        RelayCertificate certificate = RelayCertificate.selfSignedForLocalhost();
        Path cert = PemFiles.writeChain(dir.resolve("cert.pem"), certificate);
        Path key = PemFiles.writeKey(dir.resolve("key.pem"), certificate);
        List<String> pem = List.of("--cert-pem", cert.toString(), "--key-pem", key.toString());
        int port = RelayProcess.freeUdpPort();

        RelayProcess first = RelayProcess.start("restart-1", pem, port);
        RelayProcess second = null;
        try (NetnsTestBed bed = NetnsTestBed.create()) {
            RelayEndpoint endpoint = new RelayEndpoint(first.url(), certificate.sha256Hex());
            LanHost a = bed.addLanHost("a", "10.0.2.15", endpoint);
            LanHost b = bed.addLanHost("b", "10.0.2.16", endpoint);
            assertThat(a.ping("10.0.2.16", 2, 0.2).succeeded()).as("before the restart").isTrue();

            // Traffic during the restart: a flood-ish ping both ways (its output is not needed).
            bed.startInBackground(a.namespace(), "ping", "-q", "-i", "0.05", "-w", "60", "10.0.2.16");
            bed.startInBackground(b.namespace(), "ping", "-q", "-i", "0.05", "-w", "60", "10.0.2.15");
            int aLines = a.connector().lineCount();

            first.close();
            a.connector().awaitLine(Pattern.compile("retrying in"), aLines, Duration.ofSeconds(15));
            second = RelayProcess.start("restart-2", pem, port);
            long restarted = System.nanoTime();

            a.connector().awaitLine(Pattern.compile("^reconnected to "), aLines, Duration.ofSeconds(20));
            b.connector().awaitLine(Pattern.compile("^reconnected to "), 0, Duration.ofSeconds(20));
            CommandResult resumed = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline) {
                resumed = a.exec(Duration.ofSeconds(5), "ping", "-c", "1", "-W", "1", "10.0.2.16");
                if (resumed.succeeded()) {
                    break;
                }
            }
            double seconds = (System.nanoTime() - restarted) / 1e9;
            LanThroughRelayIT.fact("pings resumed %.1f s after the restarted relay was listening", seconds);
            assertThat(resumed.succeeded()).as(resumed.describe()).isTrue();
            assertThat(seconds).as("pings resume within a few seconds").isLessThan(10);
            assertThat(a.ping("10.0.2.2", 2, 0.2).succeeded()).as("the gateway answers again").isTrue();
            assertThat(a.exec("ip", "-o", "address", "show", "eth0").orThrow().stdout())
                    .as("the TAP kept its address").contains("10.0.2.15/24");
            assertThat(a.connector().isAlive()).isTrue();
        } finally {
            first.close();
            if (second != null) {
                second.close();
            }
            Files.deleteIfExists(cert);
            Files.deleteIfExists(key);
            Files.deleteIfExists(dir);
        }
    }
}
