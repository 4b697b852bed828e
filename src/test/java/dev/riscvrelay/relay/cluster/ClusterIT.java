package dev.riscvrelay.relay.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.ConnectorProcess;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.testbed.RelayProcess;
import dev.riscvrelay.relay.testbed.TcpTransfers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * Three relays, each on its own field bed (its own namespace, clients across 1500-MTU veths, its own "internet"),
 * joined with {@code --cluster} through a three-node NATS cluster (Debian's nats-server, each node in its own
 * namespace on a 1500-MTU bridge with the relays). One host connects to each relay with {@code relay connect}:
 * they are one LAN, and each reaches the outside through its own relay.
 *
 * <pre>
 *  bed a: host a -- relay a --+                       +-- nats1 198.18.Y.1
 *  bed b: host b -- relay b --+-- cluster bridge ------+-- nats2 198.18.Y.2
 *  bed c: host c -- relay c --+   (198.18.Y.0/24)      +-- nats3 198.18.Y.3
 * </pre>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {

    private static final int MIB = TcpTransfers.MIB;
    private static final Pattern JOINED = Pattern.compile("Cluster: relay (\\S+) joined through nats://([0-9.]+):");
    private static final Pattern LOST = Pattern.compile("Cluster: lost the NATS connection");
    private static final Pattern RECONNECTED = Pattern.compile("Cluster: reconnected through nats://([0-9.]+):");

    private final List<FieldBed> beds = new ArrayList<>();
    private final List<LanHost> hosts = new ArrayList<>();
    private final List<Namespace> natsNodes = new ArrayList<>();
    private final List<Process> natsProcesses = new ArrayList<>();
    private Namespace clusterNet;
    private int y = -1;
    private int clusterPorts;
    private TcpTransfers transfers;
    private String servers;
    private Path natsStore;

    @BeforeAll
    void build() throws Exception {
        NetnsTestBed.requireTools("ip", "socat", "curl", "python3", "busybox", "nats-server");
        for (int i = 0; i < 3; i++) {
            beds.add(FieldBed.create());
        }
        y = FieldBed.reserveSubnet();
        NetnsTestBed bed = beds.get(0).bed();
        transfers = bed.own(new TcpTransfers(bed));
        clusterNet = bed.addNamespace("cnet");
        clusterNet.exec("ip", "link", "add", "br0", "mtu", "1500", "type", "bridge").orThrow();
        clusterNet.exec("ip", "link", "set", "br0", "up").orThrow();

        List<String> urls = new ArrayList<>();
        for (int n = 1; n <= 3; n++) {
            Namespace node = bed.addNamespace("nats" + n);
            joinClusterNet(node, natsAddress(n));
            natsNodes.add(node);
            urls.add("nats://" + natsAddress(n) + ":4222");
        }
        servers = String.join(",", urls);
        natsStore = Files.createTempDirectory("cluster-nats-");
        for (int n = 1; n <= 3; n++) {
            natsProcesses.add(startNats(n));
        }
        for (int n = 1; n <= 3; n++) {
            natsNodes.get(n - 1).awaitListening("-ltn", natsAddress(n) + ":4222");
        }
        awaitJetStream();

        String[] ids = {"a", "b", "c"};
        for (int i = 0; i < 3; i++) {
            FieldBed field = beds.get(i);
            joinClusterNet(field.relayNamespace(), "198.18." + y + "." + (10 + i));
            Namespace internet = field.addInternet();
            Path site = Files.createTempDirectory("cluster-site-");
            Files.writeString(site.resolve("who"), "internet of relay " + ids[i] + "\n");
            field.bed().startInBackground(internet, "python3", "-m", "http.server", "--bind", FieldBed.INTERNET_HOST,
                    "--directory", site.toString(), "8080");
            field.startRelay("cluster-" + ids[i], "--cluster", servers, "--relay-id", ids[i],
                    "--allow", "203.0.113.0/24");
            internet.awaitListening("-ltn", FieldBed.INTERNET_HOST + ":8080");
            hosts.add(field.addLanHost("h" + ids[i], "10.0.2." + (21 + i), LinkProfile.CLEAN));
        }
        for (int i = 0; i < 3; i++) {
            assertThat(joinedThrough(beds.get(i).relay())).as("relay %s joined", ids[i]).isNotNull();
        }
    }

    @AfterAll
    void tearDown() {
        for (FieldBed field : beds) {
            field.close();
        }
        if (y >= 0) {
            FieldBed.releaseSubnet(y);
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
        Path script = dev.riscvrelay.relay.testbed.DhcpClients.writeUdhcpcScript(natsStore);
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

    private static String udhcpc(LanHost client, Path script) {
        CommandResult result = client.exec(Duration.ofSeconds(40), "busybox", "udhcpc", "-i", "eth0", "-n", "-q",
                "-t", "5", "-s", script.toString());
        assertThat(result.succeeded()).as("%s", result).isTrue();
        Matcher m = Pattern.compile("inet (10\\.0\\.2\\.\\d+)/24").matcher(
                client.exec("ip", "-4", "-o", "addr", "show", "dev", "eth0").orThrow().stdout());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    @Test
    @Order(6)
    void killingTheNatsNodeARelayUsesKeepsTheLanWorking() throws Exception {
        String used = joinedThrough(beds.get(0).relay());
        int node = List.of(natsAddress(1), natsAddress(2), natsAddress(3)).indexOf(used);
        assertThat(node).as("relay a's NATS server %s", used).isNotNegative();
        Process killed = natsProcesses.get(node);
        killed.destroyForcibly().waitFor();

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
        natsProcesses.set(node, startNats(node + 1));
    }

    @Test
    @Order(7)
    void aRelayWhoseNatsIsNotThereYetRunsAloneAndJoinsWhenItIs() throws Exception {
        // A fourth NATS address nobody serves yet, in nats1's namespace: the relay starts alone, then joins.
        Namespace node = natsNodes.get(0);
        String lateAddress = "198.18." + y + ".4";
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
        joinClusterNet(roaming, "198.18." + y + ".50");
        ConnectorProcess.RelayEndpoint relayC = new ConnectorProcess.RelayEndpoint(
                "https://198.18." + y + ".12:4433/", beds.get(2).relay().certificateHash());
        ConnectorProcess connector = bed.own(ConnectorProcess.tapInNamespace("roam",
                List.of("ip", "netns", "exec", roaming.name()), relayC, roaming.path(), "eth0",
                "--url", "https://198.18." + y + ".11:4433/", "--cert-hash", beds.get(1).relay().certificateHash()));
        LanHost host = new LanHost(roaming, null, connector);
        roaming.privateResolvConf();
        Path script = dev.riscvrelay.relay.testbed.DhcpClients.writeUdhcpcScript(natsStore);
        String address = udhcpc(host, script);
        assertThat(host.ping(hosts.get(1).address(), 2, 0.2).succeeded()).isTrue();

        int before = connector.lineCount();
        beds.get(2).stopRelay();
        connector.awaitLine(Pattern.compile("reconnected to https://198\\.18\\." + y + "\\.11:4433/"), before,
                Duration.ofSeconds(30));
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        boolean answers = false;
        while (!answers && System.nanoTime() < deadline) {
            answers = host.ping(hosts.get(0).address(), 1, 0.2).succeeded();
        }
        assertThat(answers).as("the host, now through relay b, reaches host a on relay a").isTrue();
        assertThat(host.ping(hosts.get(1).address(), 3, 0.2).succeeded()).isTrue();
        assertThat(udhcpc(host, script)).as("its lease, renewed through relay b").isEqualTo(address);
    }

    // ---- the bed

    private String natsAddress(int n) {
        return "198.18." + y + "." + n;
    }

    /** A 1500-MTU veth from the cluster bridge into {@code namespace}, addressed {@code address}/24 there. */
    private void joinClusterNet(Namespace namespace, String address) {
        String port = "p" + (clusterPorts++);
        clusterNet.exec("ip", "link", "add", port, "mtu", "1500", "type", "veth", "peer", "name", "clu0", "mtu",
                "1500", "netns", namespace.name()).orThrow();
        clusterNet.exec("ip", "link", "set", port, "master", "br0", "up").orThrow();
        namespace.exec("ip", "address", "add", address + "/24", "dev", "clu0").orThrow();
        namespace.exec("ip", "link", "set", "clu0", "up").orThrow();
    }

    /** NATS node {@code n} of the three, routed to the other two (a NATS cluster), in its own namespace. */
    private Process startNats(int n) {
        List<String> routes = new ArrayList<>();
        for (int other = 1; other <= 3; other++) {
            if (other != n) {
                routes.add("nats://" + natsAddress(other) + ":6222");
            }
        }
        return beds.get(0).bed().startInBackground(natsNodes.get(n - 1), "nats-server", "-a", natsAddress(n), "-p",
                "4222", "-n", "nats" + n, "--cluster_name", "relays", "--cluster",
                "nats://" + natsAddress(n) + ":6222", "--routes", String.join(",", routes),
                "-js", "-sd", natsStore.resolve("nats" + n).toString(), "-m", "8222");
    }

    /**
     * Waits until every node's JetStream is ready (its leader elected, which takes the new cluster a few seconds):
     * the relays then find their buckets at once, as in a cluster that has been up for a while.
     */
    private void awaitJetStream() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        for (int n = 1; n <= 3; n++) {
            String url = "http://" + natsAddress(n) + ":8222/healthz";
            while (!natsNodes.get(n - 1).exec(Duration.ofSeconds(10), "curl", "-s", "--max-time", "5", url).stdout()
                    .contains("\"ok\"")) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("JetStream of nats" + n + " not ready within 60 s");
                }
                Thread.sleep(250);
            }
        }
    }

    /** The NATS server address the relay said it joined through, or null. */
    private static String joinedThrough(RelayProcess relay) {
        for (String line : relay.output()) {
            Matcher m = JOINED.matcher(line);
            if (m.find()) {
                return m.group(2);
            }
        }
        return null;
    }

    private static long countLines(RelayProcess relay, Pattern pattern) {
        return relay.output().stream().filter(line -> pattern.matcher(line).find()).count();
    }

    private static void awaitLine(RelayProcess relay, Pattern pattern, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (countLines(relay, pattern) == 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no line " + pattern + " within " + timeout + "; output:\n"
                        + String.join("\n", relay.output()));
            }
            Thread.sleep(100);
        }
    }

    /** A sample of the relay's /metrics; a series the relay does not export fails the test. */
    private static long metric(FieldBed field, String series) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(field.adminUrl("/metrics"))).timeout(Duration.ofSeconds(10))
                        .build(), HttpResponse.BodyHandlers.ofString());
        for (String line : response.body().split("\n")) {
            if (line.startsWith(series + " ") || line.startsWith(series + "{")) {
                String value = line.substring(line.lastIndexOf(' ') + 1);
                return (long) Double.parseDouble(value);
            }
        }
        throw new AssertionError("no " + series + " in /metrics");
    }
}
