package dev.riscvrelay.relay.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.RelayProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The relay restarts under traffic, inside its own namespace on the field bed. It keeps its self-signed certificate
 * across the restart (--state-dir, as an operator would), so the connectors' pinned hash stays right; they reconnect
 * by themselves, one across the clean link and one behind the internet profile's impaired link, and pings between
 * the two hosts resume within seconds, while the hosts keep their TAPs and addresses.
 */
class RelayRestartIT {

    @Test
    void connectorsReconnectAfterARelayRestartAndPingsResume() throws Exception {
        NetnsTestBed.requireTools("ip", "ping");
        Path state = Files.createTempDirectory("rr-restart");
        try (FieldBed field = FieldBed.create()) {
            RelayProcess first = field.startRelay("restart-1", "--state-dir", state.toString());
            LanHost a = field.addLanHost("a", "10.0.2.15", LinkProfile.CLEAN);
            LanHost b = field.addLanHost("b", "10.0.2.16", LinkProfile.INTERNET);
            assertThat(a.ping("10.0.2.16", 2, 0.2).succeeded()).as("before the restart").isTrue();

            // Traffic during the restart: a flood-ish ping both ways (its output is not needed).
            field.bed().startInBackground(a.namespace(), "ping", "-q", "-i", "0.05", "-w", "60", "10.0.2.16");
            field.bed().startInBackground(b.namespace(), "ping", "-q", "-i", "0.05", "-w", "60", "10.0.2.15");
            int aLines = a.connector().lineCount();
            int bLines = b.connector().lineCount();

            assertThat(field.stopRelay()).as("a relay stopped with SIGTERM exits cleanly").isZero();
            a.connector().awaitLine(Pattern.compile("retrying in"), aLines, Duration.ofSeconds(15));
            RelayProcess second = field.restartRelay("restart-2");
            long restarted = System.nanoTime();
            assertThat(second.certificateHash()).as("the hash from --state-dir").isEqualTo(first.certificateHash());
            assertThat(second.output()).contains("Listening on https://0.0.0.0:4433");

            Pattern reconnected = Pattern.compile("^reconnected to .*; QUIC packets of 1472 bytes validated on the"
                    + " path \\(route MTU 1500, at most 1472\\)");
            a.connector().awaitLine(reconnected, aLines, Duration.ofSeconds(20));
            b.connector().awaitLine(reconnected, bLines, Duration.ofSeconds(20));
            CommandResult resumed = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline) {
                resumed = a.exec(Duration.ofSeconds(5), "ping", "-c", "1", "-W", "1", "10.0.2.16");
                if (resumed.succeeded()) {
                    break;
                }
            }
            double seconds = (System.nanoTime() - restarted) / 1e9;
            LanThroughRelayIT.fact("field bed: pings (clean <-> internet profile) resumed %.1f s after the restarted"
                    + " relay was listening", seconds);
            assertThat(resumed.succeeded()).as(resumed.describe()).isTrue();
            assertThat(seconds).as("pings resume within a few seconds").isLessThan(10);
            assertThat(a.ping("10.0.2.2", 2, 0.2).succeeded()).as("the gateway answers again").isTrue();
            assertThat(b.ping("10.0.2.2", 3, 0.2).stdout()).as("and behind the impaired link")
                    .containsPattern("[1-3] received");
            for (LanHost host : java.util.List.of(a, b)) {
                assertThat(host.exec("ip", "-o", "address", "show", "eth0").orThrow().stdout())
                        .as("the TAP kept its address").contains(host.address() + "/24");
                assertThat(FieldBed.mtuOf(host.namespace(), "eth0")).as("and its MTU").isEqualTo(1408);
                assertThat(host.connector().isAlive()).isTrue();
            }
        } finally {
            try (Stream<Path> files = Files.walk(state)) {
                for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }
}
