package dev.riscvrelay.relay.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.ConnectorProcess;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What goes wrong, and how the connector says so, on the field bed (the relay in its own namespace, every connector
 * across 1500-MTU links): oversized frames, packets the kernel refuses to send, a wrong hash, an unreachable relay,
 * no permission for a TAP.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectorBadInputIT {

    private FieldBed field;

    @BeforeAll
    void build() throws Exception {
        NetnsTestBed.requireTools("ip", "ping", "setpriv");
        field = FieldBed.create();
        field.startRelay("bad-input");
    }

    @AfterAll
    void tearDown() {
        if (field != null) {
            field.close();
        }
    }

    /**
     * With {@code --mtu 3000} the TAP accepts frames larger than one datagram carries; the host's interface is
     * then raised to MTU 4000 behind the connector's back. Frames above the datagram size (connector check) and
     * above the TAP's own limit (device check) are both dropped whole and counted, the connector says so, and
     * normal traffic goes on. Runs in-process for the counters (and under PARANOID leak detection), in the root
     * namespace, whose path to the relay is the bed's 1500-MTU link.
     */
    @Test
    void framesLargerThanADatagramAreDroppedAndCountedNeverSplit() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        Namespace host = field.bed().addNamespace("big");
        ConnectorConfig config = new ConnectorConfig(URI.create(field.relayUrl(LinkProfile.CLEAN)),
                WebTransportClientConfig.pinned(field.relay().certificateHash()), new ConnectorConfig.Tap("eth0",
                host.path()), 3000, ConnectorConfig.DEFAULT_BACKOFF_INITIAL, ConnectorConfig.DEFAULT_BACKOFF_CAP);
        Connector connector = field.bed().own(Connector.start(config, log::add));
        Connector.Ready ready = connector.ready().get(30, TimeUnit.SECONDS);
        assertThat(ready.mtu()).isEqualTo(3000);
        int datagramFrame = ready.maxDatagramFrame();
        assertThat(datagramFrame).as("1472-byte QUIC packets on the 1500-byte path").isEqualTo(1427);
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
        // The first oversized DF packet is dropped and answered with ICMP fragmentation needed; the host's kernel
        // then keeps to the MTU it was told (fragmenting its pings), so later ones need no drop.
        long dropped = connector.counters().get(Counter.DROP_TAP_TOO_LARGE);
        assertThat(dropped).isGreaterThanOrEqualTo(1);
        assertThat(connector.counters().get(Counter.CONNECT_PACKET_TOO_BIG_SENT)).as("the host was told")
                .isGreaterThanOrEqualTo(1).isLessThanOrEqualTo(dropped);
        assertThat(ping(host, 56).succeeded()).as("traffic goes on after the drops").isTrue();
        awaitLog(log, Pattern.compile("^dropped \\d+ frames from tap eth0 larger than one datagram carries"));
    }

    /**
     * {@code relay connect --mtu 1500} in a client namespace: the TAP takes 1514-byte frames, one datagram carries
     * 1422. The connector warns at connect; a full-size frame is dropped whole (never split), counted, and
     * answered with ICMP fragmentation needed naming 1408, after which the host's kernel fragments its pings itself
     * (and the gateway, which does not reassemble, drops the fragments); the periodic report says how many of each.
     */
    @Test
    void aTapMtuAboveThePathIsReportedAndItsOversizeFramesAreCountedExactly() throws Exception {
        LanHost host = field.addLanHost("mtu1500", "10.0.2.17", LinkProfile.CLEAN, "--mtu", "1500",
                "--tap-queue", "1000");
        assertThat(FieldBed.mtuOf(host.namespace(), "eth0")).isEqualTo(1500);
        assertThat(FieldBed.txQueueOf(host.namespace(), "eth0")).as("--tap-queue").isEqualTo(1000);
        assertThat(host.connector().lines()).contains("warning: this session carries at most 1422-byte frames but"
                + " tap eth0 may send 1514-byte frames; larger ones are dropped and counted");
        assertThat(pingGateway(host, 1408 - 28, 2).succeeded()).as("a 1422-byte frame fits").isTrue();

        CommandResult full = pingGateway(host, 1500 - 28, 3);
        assertThat(full.succeeded()).as("1514-byte frames are not split: " + full.describe()).isFalse();
        assertThat(full.stdout()).contains("3 packets transmitted, 0 received");
        Matcher report = host.connector().awaitLine(Pattern.compile("^dropped (\\d+) frames from tap eth0 larger than"
                + " one datagram carries \\(1422 bytes\\); is the MTU of the interface behind it too large\\? \\((\\d+)"
                + " in total; (\\d+) answered with ICMP fragmentation needed\\)$"), 0, Duration.ofSeconds(15));
        int dropped = Integer.parseInt(report.group(2));
        assertThat(dropped).as("full-size frames dropped whole").isBetween(1, 3);
        assertThat(Integer.parseInt(report.group(3))).as("each one answered: its DF was set").isEqualTo(dropped);
        CommandResult route = host.exec("ip", "route", "get", "10.0.2.2");
        assertThat(route.stdout()).as("the host's kernel learned the MTU that fits").contains("mtu 1408");
        assertThat(pingGateway(host, 56, 2).succeeded()).as("small frames still cross").isTrue();
        assertThat(host.connector().isAlive()).isTrue();
    }

    /**
     * The link under the connector shrinks after the path was validated (its veth goes to MTU 1400): quiche keeps
     * sending 1472-byte packets, which the kernel refuses with EMSGSIZE (DF, never fragmented). The connector counts
     * each refusal and reports them in its periodic line, naming the cause.
     */
    @Test
    void packetsTheKernelRefusesToSendAreCountedAndReported() throws Exception {
        LanHost host = field.addLanHost("shrink", "10.0.2.18", LinkProfile.CLEAN);
        assertThat(pingGateway(host, 1408 - 28, 2).succeeded()).as("full-size frames cross").isTrue();
        int from = host.connector().lineCount();
        host.exec("ip", "link", "set", "up0", "mtu", "1400").orThrow();
        CommandResult full = pingGateway(host, 1408 - 28, 3);
        assertThat(full.stdout()).as(full.describe()).contains("3 packets transmitted, 0 received");
        Matcher report = host.connector().awaitLine(Pattern.compile("^the kernel refused (\\d+) QUIC packets to the"
                + " relay \\((\\d+) in this session: (\\d+) larger than the link, 0 for full buffers, 0 other\\)$"),
                from, Duration.ofSeconds(15));
        assertThat(Integer.parseInt(report.group(3))).as("refused for size").isGreaterThanOrEqualTo(3)
                .isEqualTo(Integer.parseInt(report.group(2)));
        LanThroughRelayIT.fact("link shrunk to MTU 1400 under a connector: %s", report.group());
        assertThat(host.connector().isAlive()).isTrue();
    }

    /**
     * A host sends faster than its session carries: 5000 full-size echo requests at once ({@code ping -l}), through a
     * TAP whose queue takes them all, across the internet profile, where the connector paces its datagrams over the
     * round trip once the session has carried traffic for a while. What does not fit the queue in front of QUIC is
     * dropped, counted and reported in the connector's periodic line, a loss the host's TCP would see.
     */
    @Test
    void framesAHostSendsFasterThanItsSessionCarriesAreCountedAndReported() throws Exception {
        LanHost host = field.addLanHost("burst", "10.0.2.19", LinkProfile.INTERNET, "--tap-queue", "10000");
        // Two seconds of steady traffic first: until then the connector does not pace a window this small.
        host.exec(Duration.ofSeconds(30), "ping", "-q", "-n", "-i", "0.01", "-c", "300", "-W", "1", "10.0.2.2");
        int from = host.connector().lineCount();
        CommandResult burst = host.exec(Duration.ofSeconds(60), "ping", "-q", "-n", "-c", "5000", "-l", "5000",
                "-s", Integer.toString(1408 - 28), "-W", "3", "10.0.2.2");
        Matcher report = host.connector().awaitLine(Pattern.compile("^dropped (\\d+) frames for the relay \\((\\d+)"
                + " in this session: (\\d+) with the queue to QUIC full, (\\d+) refused by QUIC\\)$"), from,
                Duration.ofSeconds(15));
        LanThroughRelayIT.fact("5000 echo requests at once across the internet profile: %s; %s", report.group(),
                burst.stdout().lines().filter(line -> line.contains("transmitted")).findFirst().orElse(""));
        assertThat(Integer.parseInt(report.group(2))).as("frames dropped in this session").isPositive()
                .isEqualTo(Integer.parseInt(report.group(3)) + Integer.parseInt(report.group(4)));
        Matcher received = Pattern.compile("5000 packets transmitted, (\\d+) received").matcher(burst.stdout());
        assertThat(received.find()).as(burst.describe()).isTrue();
        assertThat(Integer.parseInt(received.group(1))).as("echoes that crossed").isPositive()
                .isLessThanOrEqualTo(5000 - Integer.parseInt(report.group(2)));
        assertThat(pingGateway(host, 56, 2).succeeded()).as("the session still carries frames").isTrue();
        assertThat(host.connector().isAlive()).isTrue();
    }

    @Test
    void aWrongHashEndsWithOneClearLineAndExitCode1() throws Exception {
        Namespace client = field.addClientNamespace("wronghash");
        ConnectorProcess connector = field.startConnector("wrong-hash", client, List.of("--url",
                field.relayUrl(LinkProfile.CLEAN), "--cert-hash", "ab".repeat(32), "--tap", "rrwronghash"));
        int exit = connector.awaitExit(Duration.ofSeconds(30));
        assertThat(exit).isEqualTo(1);
        assertThat(connector.lines()).containsExactly("relay: wrong certificate hash: TLS handshake with "
                + field.relayAddress() + ":" + FieldBed.RELAY_PORT + " failed: server certificate SHA-256 is "
                + field.relay().certificateHash() + ", expected " + "ab".repeat(32)
                + " (pass the hash the relay prints at start with --cert-hash)");
    }

    /** Without CAP_NET_ADMIN a TAP cannot be made: the connector says what it needs in one line. */
    @Test
    void noPermissionForTheTapEndsWithOneClearLineAndExitCode1() throws Exception {
        Namespace client = field.addClientNamespace("noperm");
        List<String> unprivileged = new ArrayList<>(List.of("ip", "netns", "exec", client.name()));
        unprivileged.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"));
        ConnectorProcess connector = field.bed().own(ConnectorProcess.start("no-permission", unprivileged,
                List.of("--url", field.relayUrl(LinkProfile.CLEAN), "--cert-hash", field.relay().certificateHash(),
                        "--tap", "rrnoperm")));
        int exit = connector.awaitExit(Duration.ofSeconds(30));
        assertThat(exit).isEqualTo(1);
        // The TAP is opened once a session is up; on a loaded machine a first handshake may time out and be retried
        // (seen at load 10 on 2 cores): those lines say so and nothing else.
        List<String> lines = connector.lines();
        assertThat(lines.getLast()).startsWith("relay: ")
                .contains("no permission to create or attach TAP rrnoperm: run as root or with CAP_NET_ADMIN");
        assertThat(lines.subList(0, lines.size() - 1)).as("before it, at most retried handshakes")
                .allMatch(line -> line.startsWith("relay unreachable: no WebTransport session with "));
    }

    /** Nobody listens on the port in the relay's namespace: the connector retries with growing waits. */
    @Test
    void anUnreachableRelayIsRetriedWithGrowingWaits() throws Exception {
        Namespace client = field.addClientNamespace("unreach");
        ConnectorProcess connector = field.startConnector("unreachable", client, List.of("--url",
                "https://" + field.relayAddress() + ":4499/", "--cert-hash", "ab".repeat(32), "--tap", "rrunreach"));
        connector.awaitLine(Pattern.compile("^relay unreachable: .*; retrying in 0\\.5 s$"), 0, Duration.ofSeconds(30));
        connector.awaitLine(Pattern.compile("^relay unreachable: .*; retrying in 1 s$"), 0, Duration.ofSeconds(30));
        assertThat(connector.isAlive()).isTrue();
    }

    private static CommandResult ping(Namespace host, int payload) {
        return host.exec(Duration.ofSeconds(15), "ping", "-c", "2", "-i", "0.2", "-W", "2", "-M", "do", "-s",
                Integer.toString(payload), "10.0.2.2");
    }

    private static CommandResult pingGateway(LanHost host, int payload, int count) {
        return host.exec(Duration.ofSeconds(20), "ping", "-c", Integer.toString(count), "-i", "0.2", "-W", "2", "-M",
                "do", "-s", Integer.toString(payload), "10.0.2.2");
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
