package dev.riscvrelay.relay.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.ConnectorProcess;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.testbed.RelayProcess;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** What goes wrong, and how the connector says so: oversized frames, a wrong hash, an unreachable relay. */
class ConnectorBadInputIT {

    /**
     * With {@code --mtu 3000} the TAP accepts frames larger than one datagram carries; the host's interface is
     * then raised to MTU 4000 behind the connector's back. Frames above the datagram size (connector check) and
     * above the TAP's own limit (device check) are both dropped whole and counted, the connector says so, and
     * normal traffic goes on. Runs in-process for the counters (and under PARANOID leak detection).
     */
    @Test
    void framesLargerThanADatagramAreDroppedAndCountedNeverSplit() throws Exception {
        NetnsTestBed.requireTools("ip", "ping");
        List<String> log = new CopyOnWriteArrayList<>();
        try (RelayProcess relay = RelayProcess.start("bad-input"); NetnsTestBed bed = NetnsTestBed.create()) {
            Namespace host = bed.addNamespace("big");
            ConnectorConfig config = new ConnectorConfig(URI.create(relay.url()),
                    WebTransportClientConfig.pinned(relay.certificateHash()), new ConnectorConfig.Tap("eth0",
                    host.path()), 3000, ConnectorConfig.DEFAULT_BACKOFF_INITIAL, ConnectorConfig.DEFAULT_BACKOFF_CAP);
            Connector connector = bed.own(Connector.start(config, log::add));
            Connector.Ready ready = connector.ready().get(30, TimeUnit.SECONDS);
            assertThat(ready.mtu()).isEqualTo(3000);
            int datagramFrame = ready.maxDatagramFrame();
            host.exec("ip", "address", "add", "10.0.2.15/24", "dev", "eth0").orThrow();
            host.exec("ip", "link", "set", "eth0", "mtu", "4000").orThrow();
            assertThat(ping(host, 56).succeeded()).as("small frames cross").isTrue();

            // One frame of datagram size + 1 (IPv4 20 + ICMP 8 + payload + Ethernet 14), one above the TAP's limit.
            int justTooLargeForADatagram = datagramFrame + 1 - 42;
            CommandResult tooLarge = ping(host, justTooLargeForADatagram);
            CommandResult aboveTapLimit = ping(host, 3500);
            CommandResult largestThatFits = ping(host, datagramFrame - 42);

            assertThat(tooLarge.succeeded()).as("never split: no reply").isFalse();
            assertThat(aboveTapLimit.succeeded()).isFalse();
            assertThat(largestThatFits.succeeded()).as(largestThatFits.describe()).isTrue();
            assertThat(connector.counters().get(Counter.DROP_TAP_TOO_LARGE)).isGreaterThanOrEqualTo(4);
            assertThat(ping(host, 56).succeeded()).as("traffic goes on after the drops").isTrue();
            awaitLog(log, Pattern.compile("^dropped \\d+ frames from tap eth0 larger than one datagram carries"));
        }
    }

    @Test
    void aWrongHashEndsWithOneClearLineAndExitCode1() throws Exception {
        try (RelayProcess relay = RelayProcess.start("wrong-hash");
             ConnectorProcess connector = ConnectorProcess.start("wrong-hash", List.of("--url", relay.url(),
                     "--cert-hash", "ab".repeat(32), "--tap", "rrwronghash"))) {
            int exit = connector.awaitExit(Duration.ofSeconds(30));
            assertThat(exit).isEqualTo(1);
            assertThat(connector.lines()).containsExactly("relay: wrong certificate hash: TLS handshake with"
                    + " 127.0.0.1:" + relay.port() + " failed: server certificate SHA-256 is "
                    + relay.certificateHash() + ", expected " + "ab".repeat(32)
                    + " (pass the hash the relay prints at start with --cert-hash)");
        }
    }

    /** Without CAP_NET_ADMIN a TAP cannot be made: the connector says what it needs in one line. */
    @Test
    void noPermissionForTheTapEndsWithOneClearLineAndExitCode1() throws Exception {
        List<String> unprivileged = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs");
        try (RelayProcess relay = RelayProcess.start("no-permission");
             ConnectorProcess connector = ConnectorProcess.start("no-permission", unprivileged, List.of("--url",
                     relay.url(), "--cert-hash", relay.certificateHash(), "--tap", "rrnoperm"))) {
            int exit = connector.awaitExit(Duration.ofSeconds(30));
            assertThat(exit).isEqualTo(1);
            assertThat(connector.lines()).hasSize(1);
            assertThat(connector.lines().getFirst()).startsWith("relay: ")
                    .contains("no permission to create or attach TAP rrnoperm: run as root or with CAP_NET_ADMIN");
        }
    }

    @Test
    void anUnreachableRelayIsRetriedWithGrowingWaits() throws Exception {
        int nobodyListens = RelayProcess.freeUdpPort();
        try (ConnectorProcess connector = ConnectorProcess.start("unreachable", List.of("--url",
                "https://127.0.0.1:" + nobodyListens + "/", "--cert-hash", "ab".repeat(32), "--tap", "rrunreach"))) {
            connector.awaitLine(Pattern.compile("^relay unreachable: .*; retrying in 0\\.5 s$"), 0,
                    Duration.ofSeconds(30));
            connector.awaitLine(Pattern.compile("^relay unreachable: .*; retrying in 1 s$"), 0,
                    Duration.ofSeconds(30));
            assertThat(connector.isAlive()).isTrue();
        }
    }

    private static CommandResult ping(Namespace host, int payload) {
        return host.exec(Duration.ofSeconds(15), "ping", "-c", "2", "-i", "0.2", "-W", "2", "-M", "do", "-s",
                Integer.toString(payload), "10.0.2.2");
    }

    private static void awaitLog(List<String> log, Pattern pattern) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (log.stream().anyMatch(line -> pattern.matcher(line).find())) {
                return;
            }
            Thread.sleep(100); // the connector reports drops every few seconds; bounded by the deadline
        }
        throw new AssertionError("no log line matching " + pattern + " in " + log);
    }
}
