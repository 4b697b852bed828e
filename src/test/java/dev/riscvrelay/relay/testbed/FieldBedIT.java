package dev.riscvrelay.relay.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The field bed is what it claims: 1500-MTU links, the relay in its own namespace reachable from the root, clients in
 * their own namespaces through a clean link and through an impaired one that delays and loses what it was asked to.
 * One bed (and one relay) for the class: on a 2-core machine, starting JVMs is the slow part.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FieldBedIT {

    private static final Pattern PING_SUMMARY =
            Pattern.compile("(\\d+) packets transmitted, (\\d+) received");
    private static final Pattern PING_RTT = Pattern.compile("= ([\\d.]+)/([\\d.]+)/([\\d.]+)/([\\d.]+) ms");

    private FieldBed field;
    private String relayNamespaceName;
    private String rootLink;

    @BeforeAll
    void build() throws Exception {
        NetnsTestBed.requireTools("ip", "ping", "ss", "sha256sum", "socat");
        field = FieldBed.create();
        relayNamespaceName = field.relayNamespace().name();
        rootLink = field.rootLink();
        field.startRelay("fieldbed");
    }

    @AfterAll
    void tearDown() {
        if (field != null) {
            field.close();
            assertThat(Path.of("/run/netns", relayNamespaceName)).as("namespaces are gone").doesNotExist();
            assertThat(NetnsTestBed.run(Duration.ofSeconds(5), "ip", "link", "show", "dev", rootLink).succeeded())
                    .as("the root veth is gone").isFalse();
            assertThat(NetnsTestBed.run(Duration.ofSeconds(5), "ip", "route", "show", "to", "root",
                    field.relaySubnet()).stdout()).as("its route is gone").isBlank();
        }
    }

    @Test
    @Order(1)
    void everyLinkIs1500BytesAndCarries1472ByteUdpPayloadsButNot1473() {
        assertThat(FieldBed.mtuOf(null, field.rootLink())).isEqualTo(1500);
        assertThat(FieldBed.mtuOf(field.linkNamespace(), "root0")).isEqualTo(1500);
        assertThat(FieldBed.mtuOf(field.linkNamespace(), "br0")).isEqualTo(1500);
        assertThat(FieldBed.mtuOf(field.linkNamespace(), "relay0")).isEqualTo(1500);
        assertThat(FieldBed.mtuOf(field.relayNamespace(), "eth0")).isEqualTo(1500);

        // ping -s is the ICMP payload: 1472 + 8 (ICMP) + 20 (IPv4) = 1500, the same packet size as a 1472-byte UDP
        // payload. -M do sets DF, so nothing is fragmented on the way.
        CommandResult fits = NetnsTestBed.run(Duration.ofSeconds(10), "ping", "-M", "do", "-s", "1472", "-c", "2",
                "-i", "0.2", "-W", "2", field.relayAddress());
        CommandResult tooBig = NetnsTestBed.run(Duration.ofSeconds(10), "ping", "-M", "do", "-s", "1473", "-c", "1",
                "-W", "2", field.relayAddress());
        assertThat(fits.succeeded()).as(fits.describe()).isTrue();
        assertThat(tooBig.succeeded()).as(tooBig.describe()).isFalse();
        assertThat(tooBig.stdout() + tooBig.stderr()).containsIgnoringCase("message too long");

        // And a UDP datagram with DF from the root namespace: 1472 bytes leave, 1473 do not (EMSGSIZE).
        CommandResult udp = NetnsTestBed.run(Duration.ofSeconds(10), "python3", "-c", """
                import socket, sys
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO: DF, never fragment
                s.connect((sys.argv[1], 9))
                s.send(b"x" * 1472)
                try:
                    s.send(b"x" * 1473)
                    print("1473 sent")
                except OSError as e:
                    print("1473 refused", e.errno)
                """, field.relayAddress());
        assertThat(udp.stdout()).as(udp.describe()).contains("1473 refused 90"); // EMSGSIZE
    }

    @Test
    @Order(2)
    void relayRunsInItsNamespaceAndItsAdminIsReachableFromTheRoot() throws Exception {
        assertThat(field.relay().output()).anyMatch(l -> l.matches("Certificate Hash \\(use this in client\\): "
                + "[0-9a-f]{64}\\s*"));
        assertThat(field.relay().output()).contains("Listening on https://0.0.0.0:4433");
        assertThat(field.relayNamespace().exec("ss", "-Hlun").stdout()).contains(":4433 ");
        assertThat(NetnsTestBed.run(Duration.ofSeconds(5), "ss", "-Hlun").stdout())
                .as("not in the root namespace").doesNotContain(field.relayAddress());

        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(field.adminUrl("/metrics")))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(field.adminUrl("/metrics")).startsWith("http://" + field.relayAddress() + ":");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("relay_");
        }
    }

    @Test
    @Order(3)
    void connectedHostPingsTheGatewayThroughTheCleanLink() throws Exception {
        LanHost host = field.addLanHost("cleanhost", "10.0.2.15", LinkProfile.CLEAN);
        assertThat(FieldBed.mtuOf(host.namespace(), "up0")).isEqualTo(1500);
        // 1472-byte QUIC packets validated on the 1500-byte path carry 1422-byte frames: an IP MTU of 1408.
        assertThat(FieldBed.mtuOf(host.namespace(), "eth0")).isEqualTo(1408);
        CommandResult full = host.exec(Duration.ofSeconds(20), "ping", "-c", "3", "-i", "0.2", "-M", "do", "-s",
                "1380", "10.0.2.2");
        assertThat(full.succeeded()).as("full-size (1408-byte) pings cross: " + full.describe()).isTrue();

        CommandResult ping = host.ping("10.0.2.2", 10, 0.1);
        assertThat(ping.succeeded()).as(ping.describe()).isTrue();
        double[] rtt = rtt(ping);
        System.out.printf("clean link: ping 10.0.2.2 through the relay min/avg/max %.2f/%.2f/%.2f ms%n", rtt[0],
                rtt[1], rtt[2]);
        // Latency is measured by relay bench against a same-run baseline; here only a pathological stall fails.
        assertThat(rtt[1]).as("average RTT (a few ms idle; far more only when something stalls)").isLessThan(250);
    }

    @Test
    @Order(4)
    void connectedHostBehindTheInternetProfileSeesItsRoundTripAndLoss() throws Exception {
        // Without link recovery: the host sees the profile itself (a repaired ping would arrive a round trip late).
        LanHost host = field.addLanHost("nethost", "10.0.2.16", LinkProfile.INTERNET, "--no-link-recovery");
        LinkProxyProcess proxy = field.linkProxy(LinkProfile.INTERNET);
        assertThat(proxy.readyLine()).isEqualTo("ImpairedLink listening on " + field.linkAddress() + ":4434 -> "
                + field.relayAddress() + ":4433 profile internet");

        CommandResult slow = host.ping("10.0.2.2", 20, 0.1);
        double[] rtt = rtt(slow);
        System.out.printf("internet profile: ping 10.0.2.2 min/avg/max %.2f/%.2f/%.2f ms%n", rtt[0], rtt[1], rtt[2]);
        // 2 × (10 ± 2) ms of link, plus the relay's and the connector's own 1-4 ms.
        assertThat(rtt[0]).isGreaterThanOrEqualTo(16);
        assertThat(rtt[1]).isBetween(19.0, 45.0);

        // Enough datagrams for the loss ratio to mean something: 1000 pings 5 ms apart, ~2000 datagrams each way
        // with the QUIC acknowledgements.
        CommandResult flood = host.exec(Duration.ofSeconds(60), "ping", "-c", "1000", "-i", "0.005", "-W", "2",
                "10.0.2.2");
        Matcher summary = PING_SUMMARY.matcher(flood.stdout());
        assertThat(summary.find()).as(flood.describe()).isTrue();
        int sent = Integer.parseInt(summary.group(1));
        int received = Integer.parseInt(summary.group(2));
        proxy.awaitFreshCounters();
        LinkProxyProcess.Counters up = proxy.up();
        LinkProxyProcess.Counters down = proxy.down();
        System.out.printf("internet profile: %d/%d pings answered; link up %s, down %s; loss up %.2f%% down %.2f%%%n",
                received, sent, up, down, 100 * up.lossRatio(), 100 * down.lossRatio());
        assertThat(up.offered()).isGreaterThan(1000);
        assertThat(down.offered()).isGreaterThan(1000);
        // 1% asked; with ≥ 1000 datagrams the standard deviation is ≤ 0.32 points.
        assertThat(up.lossRatio()).isBetween(0.002, 0.025);
        assertThat(down.lossRatio()).isBetween(0.002, 0.025);
        assertThat(up.oversize()).isZero();
        assertThat(down.oversize()).isZero();
        // Each lost datagram costs at most a ping here (QUIC datagrams are not retransmitted): ~2% of them.
        assertThat((double) received / sent).isBetween(0.9, 1.0);
    }

    /**
     * 20 MB of TCP each way between two hosts on the LAN, each bridged by its own connector (at its derived MTU,
     * no workaround) in its own namespace across the clean 1500-MTU link, checked by SHA-256. Before the relay
     * kept its QUIC packets within the path (1500-byte UDP payloads, refused whole with EMSGSIZE), a -> b stalled
     * after about 1 MB.
     */
    @Test
    @Order(5)
    void bulkTcpBetweenTwoConnectedHostsBothWays() throws Exception {
        LanHost a = field.addLanHost("bulka", "10.0.2.21", LinkProfile.CLEAN);
        LanHost b = field.addLanHost("bulkb", "10.0.2.22", LinkProfile.CLEAN);
        try (TcpTransfers transfers = new TcpTransfers(field.bed())) {
            TcpTransfers.Payload payload = transfers.payload("p20", 20 * TcpTransfers.MIB, 20);
            transfers.send("clean link", a.namespace(), b.namespace(), b.address(), 5001, payload,
                    Duration.ofSeconds(60));
            transfers.send("clean link", b.namespace(), a.namespace(), a.address(), 5002, payload,
                    Duration.ofSeconds(60));
        }
    }

    /**
     * The clients' router keeps its MAC as clients join: a bridge without an address of its own takes its lowest
     * port's, and a host that had cached the old one lost the relay for half a minute.
     */
    @Test
    @Order(6)
    void theRoutersMacHoldsAsClientPortsJoin() {
        for (int n = 0; n < 3; n++) {
            var client = field.addClientNamespace("macport" + n);
            // The client side's MAC says nothing about the bridge's port; give the port the lowest MAC there is.
            String port = field.linkNamespace().exec("sh", "-c",
                    "ip -o link show master br0 | tail -1 | cut -d: -f2 | cut -d@ -f1").stdout().strip();
            field.linkNamespace().exec("ip", "link", "set", port, "address", "02:00:00:00:00:0" + n).orThrow();
            assertThat(client.exec("ping", "-c", "1", "-W", "2", field.linkAddress()).succeeded()).isTrue();
            assertThat(field.linkNamespace().exec("cat", "/sys/class/net/br0/address").stdout().strip())
                    .as("after port " + port + " joined").isEqualTo(FieldBed.ROUTER_MAC);
        }
    }

    /** min, avg, max of a ping's summary line. */
    private static double[] rtt(CommandResult ping) {
        Matcher m = PING_RTT.matcher(ping.stdout());
        assertThat(m.find()).as(ping.describe()).isTrue();
        return new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)),
                Double.parseDouble(m.group(3))};
    }
}
