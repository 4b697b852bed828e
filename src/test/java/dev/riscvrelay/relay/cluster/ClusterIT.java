package dev.riscvrelay.relay.cluster;

import static dev.riscvrelay.relay.testbed.ClusterBed.awaitLine;
import static dev.riscvrelay.relay.testbed.ClusterBed.countLines;
import static dev.riscvrelay.relay.testbed.ClusterBed.joinedThrough;
import static dev.riscvrelay.relay.testbed.ClusterBed.metric;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.ClusterBed;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.ConnectorProcess;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.testbed.RelayProcess;
import dev.riscvrelay.relay.testbed.TcpTransfers;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;
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
 * The cluster of {@link ClusterBed}: three relays on their own field beds joined through a three-node NATS cluster,
 * a host connected to each. They are one LAN, and each host reaches the outside through its own relay.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {

    private static final int MIB = TcpTransfers.MIB;
    private static final Pattern LOST = Pattern.compile("Cluster: lost the NATS connection");
    private static final Pattern RECONNECTED = Pattern.compile("Cluster: reconnected through nats://([0-9.]+):");

    private ClusterBed cluster;
    private final List<FieldBed> beds = new ArrayList<>();
    private final List<LanHost> hosts = new ArrayList<>();
    private TcpTransfers transfers;

    @BeforeAll
    void build() throws Exception {
        cluster = ClusterBed.start((i, bed) -> List.of());
        for (int i = 0; i < 3; i++) {
            beds.add(cluster.bed(i));
            hosts.add(cluster.host(i));
        }
        NetnsTestBed bed = beds.get(0).bed();
        transfers = bed.own(new TcpTransfers(bed));
    }

    @AfterAll
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void everyRelayPresentsTheClustersOneCertificate() throws Exception {
        String hash = beds.get(0).relay().certificateHash();
        for (int i = 0; i < 3; i++) {
            RelayProcess relay = beds.get(i).relay();
            assertThat(relay.certificateHash()).as("the hash relay %d printed", i).isEqualTo(hash);
            assertThat(relay.certificateHashes()).as("and no other before it").containsOnly(hash);
            HttpResponse<String> certHash = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(beds.get(i).adminUrl("/cert-hash"))).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(certHash.body()).contains(hash);
        }
    }

    @Test
    @Order(1)
    void hostsOnThreeRelaysAreOneLan() {
        for (int from = 0; from < 3; from++) {
            for (int to = 0; to < 3; to++) {
                if (from != to) {
                    CommandResult ping = hosts.get(from).ping(hosts.get(to).address(), 3, 0.2);
                    assertThat(ping.succeeded()).as("host %d pings host %d across the cluster: %s", from, to, ping)
                            .isTrue();
                }
            }
        }
    }

    @Test
    @Order(2)
    void fiftyMegabytesShaExactBothWaysBetweenHostsOnTwoRelays() throws Exception {
        TcpTransfers.Payload payload = transfers.payload("p50", 50 * MIB, 50);
        LanHost a = hosts.get(0);
        LanHost b = hosts.get(1);
        double ab = transfers.send("cluster a->b", a.namespace(), b.namespace(), b.address(), 5101, payload,
                Duration.ofSeconds(120));
        double ba = transfers.send("cluster b->a", b.namespace(), a.namespace(), a.address(), 5102, payload,
                Duration.ofSeconds(120));
        System.out.printf("[facts] cluster: 50 MB host a -> host b %.1f Mbit/s, b -> a %.1f Mbit/s%n", ab, ba);
        for (int i = 0; i < 2; i++) {
            System.out.printf("[facts] cluster relay %d trunk: out %d frames in %d messages, in %d frames; drops queue_full %d,"
                    + " not_connected %d, send_failed %d%n", i, metric(beds.get(i), "relay_trunk_frames_out_total"),
                    metric(beds.get(i), "relay_trunk_messages_out_total"), metric(beds.get(i), "relay_trunk_frames_in_total"),
                    metric(beds.get(i), "relay_drops_total{reason=\"trunk_queue_full\"}"),
                    metric(beds.get(i), "relay_drops_total{reason=\"trunk_not_connected\"}"),
                    metric(beds.get(i), "relay_drops_total{reason=\"trunk_send_failed\"}"));
        }
        long trunkOut = metric(beds.get(0), "relay_trunk_frames_out_total");
        assertThat(trunkOut).as("relay a's frames crossed its trunk").isGreaterThan(10_000);
    }

    @Test
    @Order(3)
    void eachHostReachesTheOutsideThroughItsOwnRelay() {
        String[] ids = {"a", "b", "c"};
        for (int i = 0; i < 3; i++) {
            CommandResult get = hosts.get(i).exec(Duration.ofSeconds(20), "curl", "-sS", "--max-time", "10",
                    "http://" + FieldBed.INTERNET_HOST + ":8080/who");
            assertThat(get.succeeded()).as("%s", get).isTrue();
            assertThat(get.stdout().strip()).isEqualTo("internet of relay " + ids[i]);
        }
    }

    @Test
    @Order(4)
    void theGatewayNeverCrossesTheTrunk() throws Exception {
        // Every host pinged and resolved its gateway above: each relay answered its own members.
        for (int i = 0; i < 3; i++) {
            assertThat(hosts.get(i).ping("10.0.2.2", 2, 0.2).succeeded()).isTrue();
            assertThat(metric(beds.get(i), "relay_drops_total{reason=\"trunk_malformed\"}")).isZero();
        }
        assertThat(metric(beds.get(0), "relay_gateway_arp_replies_total")).isPositive();
    }

    @Test
    @Order(5)
    void dhcpClientsOnThreeRelaysLeaseDistinctAddressesAndAMacKeepsItsAddressOnAnotherRelay() throws Exception {
        for (int i = 0; i < 3; i++) {
            awaitLine(beds.get(i).relay(), Pattern.compile("Cluster: DHCP leases shared in JetStream bucket"),
                    Duration.ofSeconds(30));
        }
        Path script = dev.riscvrelay.relay.testbed.DhcpClients.writeUdhcpcScript(cluster.scratch());
        List<String> leased = new ArrayList<>();
        List<LanHost> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            LanHost client = beds.get(i).addConnectedHost("d" + i, LinkProfile.CLEAN);
            client.namespace().privateResolvConf();
            clients.add(client);
            leased.add(udhcpc(client, script));
        }
        System.out.println("[facts] cluster leases: " + leased);
        assertThat(leased).as("three relays, three addresses").doesNotHaveDuplicates();

        // Client 0 leaves relay a; a VM with its MAC comes back through relay b and gets the same address.
        String mac = clients.get(0).exec("cat", "/sys/class/net/eth0/address").orThrow().stdout().strip();
        clients.get(0).connector().close();
        LanHost moved = beds.get(1).addConnectedHost("moved", LinkProfile.CLEAN);
        moved.namespace().privateResolvConf();
        moved.exec("ip", "link", "set", "eth0", "down").orThrow();
        moved.exec("ip", "link", "set", "eth0", "address", mac).orThrow();
        moved.exec("ip", "link", "set", "eth0", "up").orThrow();
        assertThat(udhcpc(moved, script)).as("MAC %s keeps its address on relay b", mac).isEqualTo(leased.get(0));
        assertThat(moved.ping(hosts.get(2).address(), 2, 0.2).succeeded()).as("and is on the LAN").isTrue();
    }

    private static CommandResult pingUntilAnswered(LanHost host, String target, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        CommandResult ping;
        do {
            ping = host.ping(target, 1, 0.2);
        } while (!ping.succeeded() && System.nanoTime() < deadline);
        return ping;
    }

    /** The relay's non-zero drops, MAC moves, floods and trunk series, for a failure message. */
    private static String switchAndTrunkCounters(FieldBed field) {
        return nonZeroMetrics(field, line -> line.startsWith("relay_drops_total") || line.startsWith("relay_mac_")
                || line.startsWith("relay_frames_flooded") || line.startsWith("relay_trunk"));
    }

    /** What a relay's DHCP server and the cluster's lease bucket counted: which relay offered, acked or kept quiet. */
    private static String dhcpCounters(FieldBed field) {
        return nonZeroMetrics(field, line -> line.startsWith("relay_dhcp") || line.startsWith("relay_cluster")
                || line.startsWith("relay_drops_total") && (line.contains("dhcp") || line.contains("cluster_lease")));
    }

    /** The relay's /metrics lines that {@code wanted} picks and that are not zero, for a failure's message. */
    private static String nonZeroMetrics(FieldBed field, Predicate<String> wanted) {
        try {
            return field.relay().metrics().lines().filter(wanted)
                    .filter(line -> !line.endsWith(" 0.0") && !line.endsWith(" 0"))
                    .toList().toString();
        } catch (IOException e) {
            return "(no /metrics: " + e + ")";
        }
    }

    /** Whom {@code host} takes {@code peer}'s address for, beside the peer's own MAC: a failure's first question. */
    private static String neighbours(LanHost host, LanHost peer) {
        return "; the host's neighbours: " + host.exec("ip", "neigh", "show", "dev", "eth0").stdout().strip()
                + "; the peer's MAC: " + peer.exec("cat", "/sys/class/net/eth0/address").stdout().strip();
    }

    private static String udhcpc(LanHost client, Path script) {
        return udhcpc(client, script, () -> "");
    }

    /** As {@link #udhcpc(LanHost, Path)}; a failure also says {@code context}, read after it. */
    private static String udhcpc(LanHost client, Path script, Supplier<String> context) {
        CommandResult result = client.exec(Duration.ofSeconds(40), "busybox", "udhcpc", "-i", "eth0", "-n", "-q",
                "-t", "5", "-s", script.toString());
        assertThat(result.succeeded()).as(() -> result + context.get()).isTrue();
        Matcher m = Pattern.compile("inet (10\\.0\\.2\\.\\d+)/24").matcher(
                client.exec("ip", "-4", "-o", "addr", "show", "dev", "eth0").orThrow().stdout());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    @Test
    @Order(6)
    void killingTheNatsNodeARelayUsesKeepsTheLanWorking() throws Exception {
        String used = joinedThrough(beds.get(0).relay());
        int node = List.of(cluster.natsAddress(1), cluster.natsAddress(2), cluster.natsAddress(3)).indexOf(used);
        assertThat(node).as("relay a's NATS server %s", used).isNotNegative();
        cluster.killNats(node + 1);

        awaitLine(beds.get(0).relay(), RECONNECTED, Duration.ofSeconds(30));
        assertThat(countLines(beds.get(0).relay(), LOST)).as("the loss said once").isEqualTo(1);
        assertThat(metric(beds.get(0), "relay_cluster_disconnects_total")).isEqualTo(1);
        assertThat(metric(beds.get(0), "relay_cluster_reconnects_total")).isEqualTo(1);
        // Other relays on that node reconnect too; give them the same time, then every pair must answer.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        boolean allAnswer = false;
        while (!allAnswer && System.nanoTime() < deadline) {
            allAnswer = hosts.get(0).ping(hosts.get(1).address(), 1, 0.2).succeeded()
                    && hosts.get(1).ping(hosts.get(2).address(), 1, 0.2).succeeded()
                    && hosts.get(2).ping(hosts.get(0).address(), 1, 0.2).succeeded();
        }
        assertThat(allAnswer).as("the LAN works again on the two NATS nodes left").isTrue();
        CommandResult steady = hosts.get(0).ping(hosts.get(2).address(), 10, 0.1);
        assertThat(steady.succeeded()).as("%s", steady).isTrue();
        cluster.restartNats(node + 1);
    }

    @Test
    @Order(7)
    void aRelayWhoseNatsIsNotThereYetRunsAloneAndJoinsWhenItIs() throws Exception {
        // A fourth NATS address nobody serves yet, in nats1's namespace: the relay starts alone, then joins.
        Namespace node = cluster.natsNode(1);
        String lateAddress = cluster.clusterAddress(4);
        node.exec("ip", "address", "add", lateAddress + "/24", "dev", "clu0").orThrow();
        Path jar = Path.of("target", "riscv-relay.jar");
        List<String> command = List.of("ip", "netns", "exec", node.name(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-jar", jar.toString(), "--cluster", "nats://" + lateAddress + ":4222", "--relay-id", "late");
        RelayProcess late = beds.get(0).bed().own(RelayProcess.start("cluster-late", command, jar,
                new RelayProcess.Binding(lateAddress, 4433, lateAddress, lateAddress)));
        assertThat(late.output()).anyMatch(line -> line.startsWith("Cluster: NATS does not answer at nats://"
                + lateAddress + ":4222; relay late runs alone"));
        Process server = beds.get(0).bed().startInBackground(node, "nats-server", "-a", lateAddress, "-p", "4222",
                "-n", "late");
        node.awaitListening("-ltn", lateAddress + ":4222");
        awaitLine(late, Pattern.compile("Cluster: joined through nats://" + Pattern.quote(lateAddress) + ":4222"),
                Duration.ofSeconds(30));
        server.destroyForcibly();
    }

    @Test
    @Order(8)
    void aConnectorWhoseRelayStopsMovesToTheNextRelayAndKeepsItsAddress() throws Exception {
        // A host on the relays' own network, given relay c then relay b: its TAP and its DHCP address live on.
        NetnsTestBed bed = beds.get(0).bed();
        Namespace roaming = bed.addNamespace("roam");
        cluster.joinClusterNet(roaming, cluster.clusterAddress(50));
        ConnectorProcess.RelayEndpoint relayC = new ConnectorProcess.RelayEndpoint(
                "https://" + cluster.clusterAddress(12) + ":4433/", beds.get(2).relay().certificateHash());
        ConnectorProcess connector = bed.own(ConnectorProcess.tapInNamespace("roam",
                List.of("ip", "netns", "exec", roaming.name()), relayC, roaming.path(), "eth0",
                "--url", "https://" + cluster.clusterAddress(11) + ":4433/", "--cert-hash", beds.get(1).relay().certificateHash()));
        LanHost host = new LanHost(roaming, null, connector);
        roaming.privateResolvConf();
        Path script = dev.riscvrelay.relay.testbed.DhcpClients.writeUdhcpcScript(cluster.scratch());
        String address = udhcpc(host, script);
        assertThat(host.ping(hosts.get(1).address(), 2, 0.2).succeeded()).isTrue();

        int before = connector.lineCount();
        beds.get(2).stopRelay();
        connector.awaitLine(Pattern.compile("reconnected to https://" + Pattern.quote(cluster.clusterAddress(11))
                + ":4433/"), before,
                Duration.ofSeconds(30));
        // The host was off the LAN for a moment (its peers' neighbour entries for it may have failed meanwhile):
        // each peer gets the same bounded time to answer, and a failure says what relay b counted.
        CommandResult toA = pingUntilAnswered(host, hosts.get(0).address(), Duration.ofSeconds(20));
        assertThat(toA.succeeded()).as(() -> "the host, now through relay b, reaches host a on relay a: " + toA
                + "; relay b: " + switchAndTrunkCounters(beds.get(1)) + neighbours(host, hosts.get(0))).isTrue();
        CommandResult toB = pingUntilAnswered(host, hosts.get(1).address(), Duration.ofSeconds(10));
        assertThat(toB.succeeded()).as(() -> "and host b beside it on relay b: " + toB + "; relay b: "
                + switchAndTrunkCounters(beds.get(1)) + neighbours(host, hosts.get(1))).isTrue();
        assertThat(udhcpc(host, script, () -> "; relay a: " + dhcpCounters(beds.get(0)) + "; relay b: "
                + dhcpCounters(beds.get(1)))).as("its lease, renewed through relay b").isEqualTo(address);
    }
}
