package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.access.LanMember;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.ConnectorProcess;
import dev.riscvrelay.relay.testbed.DhcpClients;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.testbed.RelayProcess;
import dev.riscvrelay.relay.testbed.TcpTransfers;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code --workers}: the relay in its namespace, WebTransport clients in the root namespace across the field bed's
 * veths. Connections spread over every worker's socket and still share one LAN (the default network's switch and
 * gateway run on the first worker; the others hand their sessions' frames over); named networks spread over the
 * workers, each one LAN of its own with its gateway and NAT on its worker; a client whose address changes
 * mid-session keeps its session, on the worker that owns it.
 */
class WorkersIT {

    /** A member's worker (its network's comes before its members, right after the network's name). */
    private static final Pattern WORKER = Pattern.compile("\"connectedSince\":\"[^\"]+\",\"worker\":(\\d+)");
    private static final Pattern NETWORK_WORKER = Pattern.compile("\\{\"name\":\"([^\"]+)\",\"worker\":(\\d+)");
    @TempDir
    Path work;

    /** Named networks in the spreading test: lab0..lab7 hash onto every worker of 2 and of 4. */
    private static final int SPREAD_NETWORKS = 8;
    private static final Pattern CONNECTED_SINCE = Pattern.compile("\"connectedSince\":\"([^\"]+)\"");
    /** Clients tried at most to find every worker: with 4 workers, missing one after 40 is a chance of 4 in 10^5. */
    private static final int MOST_CLIENTS = 40;
    /** The largest frame of the default LAN: its MTU and an Ethernet header. */
    private static final int FULL_FRAME = dev.riscvrelay.relay.lan.NetworkConfig.DEFAULT_MTU + 14;

    @ParameterizedTest(name = "--workers {0}")
    @ValueSource(ints = {2, 4})
    void connectionsLandOnEveryWorkerAndShareOneLan(int workers) throws Exception {
        try (FieldBed field = FieldBed.create()) {
            RelayProcess relay = field.startRelay("workers" + workers, "--workers", Integer.toString(workers));
            URI uri = URI.create("https://" + field.relayAddress() + ":" + FieldBed.RELAY_PORT + "/");
            List<LanMember> members = new ArrayList<>();
            try {
                Set<Integer> seen = new TreeSet<>();
                while (seen.size() < workers && members.size() < MOST_CLIENTS) {
                    members.add(LanMember.join(uri, relay.certificateHash(), 0x02_00_00_00_10_00L + members.size()));
                    seen = workersOf(members(field));
                }
                System.out.printf("[facts] --workers %d: %d connections to cover workers %s%n", workers,
                        members.size(), seen);
                assertThat(seen).as("the workers the relay's connections landed on").hasSize(workers);

                // Every member's broadcast reaches every other member, whichever workers they sit on.
                for (int sender = 0; sender < members.size(); sender++) {
                    int marker = 0x5EED_0000 + sender;
                    members.get(sender).send(LanMember.broadcast(members.get(sender).mac, marker, 200));
                    for (int receiver = 0; receiver < members.size(); receiver++) {
                        if (receiver != sender) {
                            assertThat(members.get(receiver).sees(marker, 5000))
                                    .as("member %d sees the broadcast of member %d", receiver, sender).isTrue();
                        }
                    }
                }
                // The gateway, on the first worker, answers a member on each.
                for (int i = 0; i < members.size(); i++) {
                    assertThat(members.get(i).resolveGateway("10.0.2." + (100 + i))).as("ARP reply to member %d", i)
                            .isEqualTo(LanMember.GATEWAY_MAC);
                }
                assertThat(metric(field, "relay_drops_total{reason=\"handoff_full\"}")).isZero();
                assertThat(metric(field, "relay_sessions_opened_total")).isEqualTo(members.size());

                // Each worker's own series: its connections, its CPU, and the frames it handed across.
                Map<Integer, Long> perWorker = new TreeMap<>();
                Matcher worker = WORKER.matcher(members(field));
                while (worker.find()) {
                    perWorker.merge(Integer.parseInt(worker.group(1)), 1L, Long::sum);
                }
                for (int w = 0; w < workers; w++) {
                    String tag = "worker=\"" + w + "\"";
                    assertThat(metric(field, "relay_worker_quic_connections{" + tag + "}"))
                            .as("connections on worker %d", w).isEqualTo(perWorker.getOrDefault(w, 0L));
                    assertThat(metricValue(field, "relay_worker_cpu_seconds_total{" + tag + "}"))
                            .as("CPU of worker %d", w).isPositive();
                    if (w > 0) {
                        assertThat(metric(field, "relay_worker_handoff_frames_total{direction=\"to_lan\"," + tag + "}"))
                                .as("frames worker %d handed to the LAN", w).isPositive();
                        assertThat(metric(field, "relay_worker_handoff_frames_total{direction=\"from_lan\"," + tag
                                + "}")).as("frames the LAN handed to worker %d", w).isPositive();
                    }
                }
            } finally {
                members.forEach(LanMember::close);
            }
        }
    }

    @ParameterizedTest(name = "--workers {0}")
    @ValueSource(ints = {2, 4})
    void namedNetworksSpreadOverTheWorkersEachALanOfItsOwn(int workers) throws Exception {
        try (FieldBed field = FieldBed.create()) {
            field.startRelay("spread" + workers, "--workers", Integer.toString(workers));
            String relay = "https://" + field.relayAddress() + ":" + FieldBed.RELAY_PORT + "/net/";
            String hash = field.relay().certificateHash();
            Map<String, List<LanMember>> lans = new LinkedHashMap<>();
            try {
                for (int n = 0; n < SPREAD_NETWORKS; n++) {
                    List<LanMember> pair = new ArrayList<>();
                    for (int m = 0; m < 2; m++) {
                        pair.add(LanMember.join(URI.create(relay + "lab" + n), hash,
                                0x02_00_00_00_40_00L + 2 * n + m));
                    }
                    lans.put("lab" + n, pair);
                }
                Map<String, Integer> owners = networkWorkers(field);
                System.out.printf("[facts] --workers %d: networks on workers %s%n", workers, owners);
                assertThat(owners).containsKeys(lans.keySet().toArray(String[]::new)).containsEntry("default", 0);
                assertThat(new TreeSet<>(owners.values())).as("the workers that own networks").hasSize(workers);

                int marker = 0x5EED_1000;
                for (Map.Entry<String, List<LanMember>> lan : lans.entrySet()) {
                    LanMember first = lan.getValue().get(0);
                    LanMember second = lan.getValue().get(1);
                    marker++;
                    first.send(LanMember.broadcast(first.mac, marker, 200));
                    assertThat(second.sees(marker, 5000)).as("%s: its other member sees the broadcast", lan.getKey())
                            .isTrue();
                    for (Map.Entry<String, List<LanMember>> other : lans.entrySet()) {
                        if (!other.getKey().equals(lan.getKey())) {
                            // The broadcast has crossed its own LAN by now: another LAN that were to get it has too.
                            assertThat(other.getValue().get(0).sees(marker, 1))
                                    .as("%s does not see the broadcast of %s", other.getKey(), lan.getKey()).isFalse();
                        }
                    }
                    assertThat(second.resolveGateway("10.0.2.101")).as("%s: its gateway answers", lan.getKey())
                            .isEqualTo(LanMember.GATEWAY_MAC);
                }
                assertThat(metric(field, "relay_drops_total{reason=\"handoff_full\"}")).isZero();
                for (int w = 0; w < workers; w++) {
                    assertThat(metricValue(field, "relay_worker_cpu_seconds_total{worker=\"" + w + "\"}"))
                            .as("CPU of worker %d", w).isPositive();
                }
            } finally {
                lans.values().forEach(pair -> pair.forEach(LanMember::close));
            }
        }
    }

    @ParameterizedTest(name = "--workers {0}")
    @ValueSource(ints = {2, 4})
    void hostsOnANetworkOfAnotherWorkerReachEachOtherTheInternetAndAreReachedByAForward(int workers)
            throws Exception {
        NetnsTestBed.requireTools("ip", "socat", "ss", "busybox");
        try (FieldBed field = FieldBed.create()) {
            TcpTransfers transfers = field.bed().own(new TcpTransfers(field.bed()));
            Namespace internet = field.addInternet();
            field.startRelay("spread-nat" + workers, "--workers", Integer.toString(workers), "--allow",
                    "203.0.113.0/24", "--forward", "tcp:8030=lab0/10.0.2.23:5009");
            // lab0 hashes to the second worker of 2 and of 4: its switch, gateway with DHCP, and NAT run there,
            // whichever socket each connector's packets reach.
            ConnectorProcess.RelayEndpoint lab0 = new ConnectorProcess.RelayEndpoint(
                    field.relayUrl(LinkProfile.CLEAN) + "net/lab0", field.relay().certificateHash());
            LanHost a = field.addLanHost("laba", "10.0.2.23", lab0);
            LanHost b = field.addConnectedHost("labb", lab0);
            b.namespace().privateResolvConf();
            CommandResult udhcpc = b.exec(Duration.ofSeconds(30), "busybox", "udhcpc", "-i", "eth0", "-n", "-q",
                    "-t", "5", "-s", DhcpClients.writeUdhcpcScript(work).toString());
            assertThat(udhcpc.succeeded()).as("host b leases from lab0's DHCP: %s", udhcpc.describe()).isTrue();
            Matcher leased = Pattern.compile("inet (10\\.0\\.2\\.\\d+)/24").matcher(
                    b.exec("ip", "-4", "-o", "addr", "show", "dev", "eth0").orThrow().stdout());
            assertThat(leased.find()).isTrue();
            assertThat(a.ping("10.0.2.2", 3, 0.2).succeeded()).as("the gateway of lab0").isTrue();
            assertThat(a.ping(leased.group(1), 3, 0.2).succeeded()).as("host b on lab0").isTrue();
            assertThat(networkWorkers(field)).containsEntry("lab0", 1);

            assertThat(a.ping(FieldBed.INTERNET_HOST, 3, 0.2).succeeded()).as("ICMP through lab0's NAT").isTrue();
            TcpTransfers.Payload payload = transfers.payload("spread", 4 * TcpTransfers.MIB, 4);
            transfers.receive("lab0 on worker 1", internet, FieldBed.INTERNET_HOST, 5007, a.namespace(),
                    FieldBed.INTERNET_HOST + ":5007", payload, Duration.ofSeconds(60));
            transfers.send("lab0 on worker 1", b.namespace(), internet, FieldBed.INTERNET_HOST, 5005, payload,
                    Duration.ofSeconds(60));
            assertThat(metric(field, "relay_nat_tcp_connections_opened_total")).isGreaterThanOrEqualTo(2);
            // A forward into lab0 listens on lab0's worker: the internet reaches host a through it.
            transfers.send("forward into lab0", internet, "198.51.100.1:8030", a.namespace(), "10.0.2.23", 5009,
                    payload, Duration.ofSeconds(60));
        }
    }

    /** Each network's name and the worker that owns it, as the admin API lists them. */
    private static Map<String, Integer> networkWorkers(FieldBed field) {
        CommandResult listing = field.relayNamespace().exec(Duration.ofSeconds(10), "curl", "-sS", "--fail",
                field.adminUrl("/api/networks?limit=1"));
        assertThat(listing.succeeded()).as(listing.describe()).isTrue();
        Map<String, Integer> owners = new TreeMap<>();
        Matcher network = NETWORK_WORKER.matcher(listing.stdout());
        while (network.find()) {
            owners.put(network.group(1), Integer.parseInt(network.group(2)));
        }
        return owners;
    }

    @Test
    void aClientWhoseAddressChangesKeepsItsSession() throws Exception {
        try (FieldBed field = FieldBed.create();
             RebindingProxy nat = new RebindingProxy(new InetSocketAddress(field.relayAddress(),
                     FieldBed.RELAY_PORT))) {
            RelayProcess relay = field.startRelay("rebinding", "--workers", "4");
            try (LanMember member = LanMember.join(URI.create("https://127.0.0.1:" + nat.port() + "/"),
                    relay.certificateHash(), 0x02_00_00_00_20_01L)) {
                assertThat(member.resolveGateway("10.0.2.77")).isEqualTo(LanMember.GATEWAY_MAC);
                String before = members(field);
                // Each new source port hashes to one of the 4 sockets: after 8, the chance that every one landed on
                // the owner's own socket is 1 in 65,536 (the test then fails on the hand-over count below); the
                // others must hand the packets to the owner.
                int lastPort = 0;
                int secondTries = 0;
                for (int round = 1; round <= 8; round++) {
                    int port = nat.rebind();
                    lastPort = port;
                    // As a host does, the member asks again after a second without an answer: a packet from the old
                    // port that reaches the relay after the new port's can send the next replies to the old port
                    // (see the package notes on Netty's QUIC), until the client's next packet.
                    long answer = member.resolveGateway("10.0.2.77", 1000);
                    boolean echoed = answer == LanMember.GATEWAY_MAC
                            && member.echoFromGateway("10.0.2.77", FULL_FRAME, round, 1000);
                    if (!echoed) {
                        secondTries++;
                        // Say where the frame went: the relay's non-zero drops, hand-overs and connections per worker.
                        String series = relay.metrics().lines().filter(line -> line.startsWith("relay_drops_total")
                                || line.startsWith("relay_worker_handoff") || line.startsWith("relay_worker_quic")
                                || line.startsWith("relay_path_")).filter(line -> !line.endsWith(" 0.0"))
                                .collect(Collectors.joining("; "));
                        System.out.printf("[facts] rebind %d to source port %d: %s unanswered for 1 s; the relay: %s%n",
                                round, port, answer == LanMember.GATEWAY_MAC ? "the full-size echo" : "the ARP",
                                series);
                        assertThat(member.resolveGateway("10.0.2.77")).as("ARP through the gateway, asked again"
                                + " after the client moved to source port %d (rebind %d); the relay: %s", port, round,
                                series).isEqualTo(LanMember.GATEWAY_MAC);
                        // Full-size frames go on too: the new path carries the packet size the old one had validated.
                        assertThat(member.echoFromGateway("10.0.2.77", FULL_FRAME, 100 + round, 5000))
                                .as("a full-size echo from the gateway after rebind %d", round).isTrue();
                    }
                    // quiche counts a move once the client has answered its challenge on the new path; a move whose
                    // answer leaves after the next rebind is never counted (the path is no longer the active one), so
                    // the next move waits for this one's.
                    awaitMigrations(field, round);
                }
                System.out.printf("[facts] %d of 8 rebinds needed a second try%n", secondTries);
                assertThat(secondTries).as("rebinds whose first exchange went unanswered").isLessThanOrEqualTo(2);
                String after = members(field);
                assertThat(match(CONNECTED_SINCE, after)).as("the same session").isEqualTo(
                        match(CONNECTED_SINCE, before));
                assertThat(match(WORKER, after)).as("on the same worker").isEqualTo(match(WORKER, before));
                // A new connection would have needed a new session: the client opens one on each.
                assertThat(metric(field, "relay_sessions_opened_total")).as("no second session").isEqualTo(1);
                long handedOver = 0;
                for (int w = 0; w < 4; w++) {
                    handedOver += metric(field, "relay_worker_quic_handoff_packets_total{worker=\"" + w + "\"}");
                }
                assertThat(handedOver).as("packets that reached another worker's socket, handed to the owner")
                        .isPositive();
                assertThat(metric(field, "relay_drops_total{reason=\"quic_handoff_full\"}")).isZero();
                assertThat(after).as("the client's address the operator sees")
                        .contains("\"client\":\"" + field.rootAddress() + ":" + lastPort + "\"");
            }
        }
    }

    /** The default network's members as the admin API lists them. */
    private static String members(FieldBed field) {
        CommandResult listing = field.relayNamespace().exec(Duration.ofSeconds(10), "curl", "-sS", "--fail",
                field.adminUrl("/api/networks/default/members?limit=1000"));
        assertThat(listing.succeeded()).as(listing.describe()).isTrue();
        return listing.stdout();
    }

    private static Set<Integer> workersOf(String members) {
        Set<Integer> workers = new TreeSet<>();
        Matcher m = WORKER.matcher(members);
        while (m.find()) {
            workers.add(Integer.parseInt(m.group(1)));
        }
        return workers;
    }

    private static String match(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        assertThat(m.find()).as("%s in %s", pattern, text).isTrue();
        return m.group(1);
    }

    /** Waits (at most 5 s) until the relay has counted {@code moves} moves of the connection, and no more. */
    private static void awaitMigrations(FieldBed field, int moves) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        long counted = metric(field, "relay_path_migrations_total");
        while (counted < moves && System.nanoTime() < deadline) {
            Thread.sleep(20);
            counted = metric(field, "relay_path_migrations_total");
        }
        assertThat(counted).as("the connection's moves counted after rebind %d", moves).isEqualTo(moves);
    }

    private static long metric(FieldBed field, String series) {
        return (long) metricValue(field, series);
    }

    private static double metricValue(FieldBed field, String series) {
        CommandResult scrape = field.relayNamespace().exec(Duration.ofSeconds(10), "curl", "-sS", "--fail",
                field.adminUrl("/metrics"));
        assertThat(scrape.succeeded()).as(scrape.describe()).isTrue();
        for (String line : scrape.stdout().split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no series " + series + " in /metrics");
    }

    /**
     * A NAT that rebinds, as home routers and mobile networks do: the client talks to a loopback port, and the proxy
     * carries its datagrams to the relay from an upstream socket that {@link #rebind} replaces with a new one (a new
     * source port); replies to the old port are lost once it is replaced, as behind a NAT that dropped the mapping.
     */
    static final class RebindingProxy implements AutoCloseable {
        private final InetSocketAddress relay;
        private final DatagramChannel front;
        private final Selector selector;
        private final Thread thread;
        private volatile DatagramChannel upstream;
        private volatile InetSocketAddress client;
        private volatile boolean running = true;

        RebindingProxy(InetSocketAddress relay) throws IOException {
            this.relay = relay;
            this.selector = Selector.open();
            this.front = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
            front.configureBlocking(false);
            front.register(selector, SelectionKey.OP_READ);
            this.upstream = openUpstream();
            this.thread = new Thread(this::run, "rebinding-proxy");
            thread.setDaemon(true);
            thread.start();
        }

        int port() throws IOException {
            return ((InetSocketAddress) front.getLocalAddress()).getPort();
        }

        private DatagramChannel openUpstream() throws IOException {
            DatagramChannel channel = DatagramChannel.open().bind(null);
            channel.configureBlocking(false);
            return channel;
        }

        /** From now on the client's datagrams leave from a new source port; returns it. */
        synchronized int rebind() throws IOException {
            DatagramChannel next = openUpstream();
            DatagramChannel old = upstream;
            upstream = next;
            selector.wakeup();
            old.close();
            return ((InetSocketAddress) next.getLocalAddress()).getPort();
        }

        private void run() {
            ByteBuffer buffer = ByteBuffer.allocateDirect(65536);
            DatagramChannel registered = null;
            try {
                while (running) {
                    DatagramChannel current = upstream;
                    if (current != registered && current.isOpen()) {
                        current.register(selector, SelectionKey.OP_READ);
                        registered = current;
                    }
                    selector.select(100);
                    for (SelectionKey key : selector.selectedKeys()) {
                        DatagramChannel channel = (DatagramChannel) key.channel();
                        if (!channel.isOpen()) {
                            continue;
                        }
                        buffer.clear();
                        InetSocketAddress from = (InetSocketAddress) channel.receive(buffer);
                        if (from == null) {
                            continue;
                        }
                        buffer.flip();
                        try {
                            if (channel == front) {
                                client = from;
                                upstream.send(buffer, relay);
                            } else if (client != null) {
                                front.send(buffer, client);
                            }
                        } catch (java.nio.channels.ClosedChannelException rebound) {
                            // the upstream socket was replaced meanwhile: this datagram is lost, as in a real NAT
                        }
                    }
                    selector.selectedKeys().clear();
                }
            } catch (IOException e) {
                if (running) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }

        @Override
        public void close() throws IOException {
            running = false;
            selector.wakeup();
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            upstream.close();
            front.close();
            selector.close();
        }
    }
}
