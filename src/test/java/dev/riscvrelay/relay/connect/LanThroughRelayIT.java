package dev.riscvrelay.relay.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.transport.tap.TapDevice;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two Linux hosts (namespaces) on the relay's LAN, each through its own {@code relay connect} process and TAP, in
 * its own namespace on the field bed: the relay in its namespace, the connectors' QUIC packets crossing 1500-MTU
 * veths and the link namespace's forwarding (the clean profile). Beside them the same pair on a plain veth with the
 * same MTU, measured in the same run. Figures are printed as {@code [facts]} lines.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LanThroughRelayIT {

    private static final String GATEWAY_MAC = "52:54:00:12:34:56";
    private static final Duration IPERF_TIMEOUT = Duration.ofSeconds(40);
    private static final int IPERF_SECONDS = 3;
    private static final String UDP_RATE = "200M";

    private FieldBed field;
    private NetnsTestBed bed;
    private LanHost a;
    private LanHost b;
    private Namespace vethA;
    private Namespace vethB;

    @BeforeAll
    void buildTheLan() throws Exception {
        NetnsTestBed.requireTools("ip", "ping", "iperf3", "socat", "ss", "dumpcap", "tshark");
        field = FieldBed.create();
        bed = field.bed();
        field.startRelay("lan");
        a = field.addLanHost("a", "10.0.2.15", LinkProfile.CLEAN);
        b = field.addLanHost("b", "10.0.2.16", LinkProfile.CLEAN);
        int mtu = a.connector().mtu();
        vethA = bed.addNamespace("va");
        vethB = bed.addNamespace("vb");
        bed.addVethPair(vethA, "eth0", vethB, "eth0");
        bed.configureLink(vethA, "eth0", mtu, "10.0.2.15/24");
        bed.configureLink(vethB, "eth0", mtu, "10.0.2.16/24");
    }

    @AfterAll
    void tearDown() {
        if (field != null) {
            field.close();
        }
    }

    /**
     * Each connector says at connect what the path validated: 1472-byte QUIC packets on the 1500-byte route (1500 -
     * 20 IPv4 - 8 UDP), so 1422-byte frames in one datagram and a TAP MTU of 1408.
     */
    @Test
    void connectorsReportTheValidatedPathAndSizeTheTapToIt() {
        Pattern connected = Pattern.compile("^connected to https://" + Pattern.quote(field.relayAddress())
                + ":4433/; QUIC packets of 1472 bytes validated on the path \\(route MTU 1500, at most 1472\\);"
                + " one datagram carries 1422-byte frames$");
        for (LanHost host : java.util.List.of(a, b)) {
            host.connector().awaitLine(connected, 0, Duration.ofSeconds(5));
            assertThat(host.connector().lines()).contains("TAP eth0 up in " + host.namespace().path()
                    + ", MTU 1408 (one datagram carries 1422-byte frames)");
            assertThat(host.connector().mtu()).isEqualTo(1408);
            assertThat(FieldBed.mtuOf(host.namespace(), "eth0")).isEqualTo(1408);
            assertThat(FieldBed.txQueueOf(host.namespace(), "eth0")).isEqualTo(TapDevice.TX_QUEUE_FRAMES);
            assertThat(FieldBed.mtuOf(host.namespace(), "up0")).as("the link the QUIC packets cross")
                    .isEqualTo(1500);
        }
    }

    /**
     * The path across the clean link is short: after seconds of steady traffic (more than the connector waits before
     * it trusts the round trip it measured) each TAP keeps the short queue, and no connector said otherwise.
     */
    @Test
    void onAShortPathTheTapKeepsItsShortQueue() throws InterruptedException {
        CommandResult ping = a.exec(Duration.ofSeconds(30), "ping", "-q", "-n", "-i", "0.01", "-c", "400", "-W", "1",
                b.address());
        assertThat(ping.succeeded()).as(ping.describe()).isTrue();
        Thread.sleep(1_500); // the connectors look at the path once a second
        for (LanHost host : java.util.List.of(a, b)) {
            assertThat(FieldBed.txQueueOf(host.namespace(), "eth0")).isEqualTo(TapDevice.TX_QUEUE_FRAMES);
            assertThat(host.connector().lines()).noneMatch(line -> line.contains(" queue now "));
        }
    }

    @Test
    void hostsPingEachOtherAndTheGatewayWhoseMacTheyLearn() {
        assertThat(a.connector().mtu()).as("MTU = one datagram's frame minus the Ethernet header")
                .isEqualTo(a.connector().maxDatagramFrame() - 14);
        assertThat(a.exec("ip", "-o", "link", "show", "eth0").orThrow().stdout())
                .contains("mtu " + a.connector().mtu());

        CommandResult aToB = a.ping("10.0.2.16", 3, 0.2);
        CommandResult bToA = b.ping("10.0.2.15", 3, 0.2);
        CommandResult aToGateway = a.ping("10.0.2.2", 3, 0.2);
        CommandResult bToGateway = b.ping("10.0.2.2", 3, 0.2);

        assertThat(aToB.succeeded()).as(aToB.describe()).isTrue();
        assertThat(bToA.succeeded()).as(bToA.describe()).isTrue();
        assertThat(aToGateway.succeeded()).as(aToGateway.describe()).isTrue();
        assertThat(bToGateway.succeeded()).as(bToGateway.describe()).isTrue();
        assertThat(aToGateway.stdout()).contains("3 received");
        assertThat(a.exec("ip", "neigh", "show", "10.0.2.2").orThrow().stdout())
                .contains("lladdr " + GATEWAY_MAC);
        assertThat(a.exec("ip", "neigh", "show", "10.0.2.16").orThrow().stdout())
                .contains("lladdr " + macOf(b.namespace()));
    }

    /**
     * The relay answers a ping to the gateway in the read that brought it, and the answer leaves in the packet that
     * acknowledges the request, not in a second packet after it. A capture on host a's uplink counts the relay's
     * packets while a pings the gateway: one per echo, plus the odd keep-alive (two per echo before). Fewer when two
     * requests, delayed on a busy machine, arrived in one read and their answers share a packet.
     */
    @Test
    void aPingToTheGatewayIsAnsweredInThePacketThatAcknowledgesIt() throws Exception {
        a.ping("10.0.2.2", 1, 0.2); // the gateway's MAC is learned before the capture
        Path capture = Files.createTempFile("rr-ping", ".pcapng");
        Process dumpcap = bed.startInBackground(a.namespace(), "dumpcap", "-q", "-i", "up0", "-s", "96",
                "-f", "udp src port " + FieldBed.RELAY_PORT, "-w", capture.toString());
        CommandResult pings;
        try {
            Thread.sleep(1_000); // dumpcap opens the device
            pings = a.ping("10.0.2.2", 50, 0.02);
            Thread.sleep(200);
        } finally {
            dumpcap.destroy(); // SIGTERM: it writes what it has and exits
            dumpcap.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        String frames = NetnsTestBed.run(Duration.ofSeconds(60), "tshark", "-r", capture.toString(), "-T", "fields",
                "-e", "frame.len").orThrow().stdout();
        Files.deleteIfExists(capture);
        long relayPackets = frames.lines().filter(line -> !line.isBlank()).count();
        System.out.printf("[facts] 50 pings to the gateway: %d packets from the relay%n", relayPackets);
        assertThat(pings.stdout()).as(pings.describe()).contains("50 received");
        assertThat(relayPackets).as("packets from the relay for 50 echoes").isBetween(25L, 70L);
    }

    @Test
    void fullSizedPacketsCrossButNoneLarger() {
        int mtu = a.connector().mtu();
        int largestPayload = mtu - 28; // IPv4 + ICMP headers
        CommandResult full = a.exec(Duration.ofSeconds(15), "ping", "-c", "3", "-i", "0.2", "-W", "2", "-M", "do",
                "-s", Integer.toString(largestPayload), "10.0.2.16");
        assertThat(full.succeeded()).as(full.describe()).isTrue();
        CommandResult tooLarge = a.exec(Duration.ofSeconds(15), "ping", "-c", "1", "-W", "2", "-M", "do", "-s",
                Integer.toString(largestPayload + 1), "10.0.2.16");
        assertThat(tooLarge.succeeded()).as("the kernel refuses a packet above the TAP's MTU").isFalse();
    }

    @Test
    void iperf3TcpAndUdpRunWithoutErrorAndAreComparedWithAVeth() {
        IperfTcp relayTcp = iperfTcp(a.namespace(), b.namespace());
        IperfTcp vethTcp = iperfTcp(vethA, vethB);
        IperfUdp relayUdp = iperfUdp(a.namespace(), b.namespace());
        IperfUdp vethUdp = iperfUdp(vethA, vethB);
        // After the load, so the relay's and connectors' JIT is warm.
        Rtt relayRtt = pingRtt(a.namespace(), "10.0.2.16");
        Rtt vethRtt = pingRtt(vethA, "10.0.2.16");

        int mtu = a.connector().mtu();
        fact("ping RTT avg (20 pings) at MTU %d: relay %.3f ms (max %.3f), veth %.3f ms (max %.3f)", mtu,
                relayRtt.avg(), relayRtt.max(), vethRtt.avg(), vethRtt.max());
        fact("iperf3 TCP %d s at MTU %d: relay %.0f Mbit/s (%d retransmits), veth %.0f Mbit/s", IPERF_SECONDS,
                mtu, relayTcp.mbps(), relayTcp.retransmits(), vethTcp.mbps());
        fact("iperf3 UDP %d s offered %s at MTU %d: relay %.0f Mbit/s received, %.2f%% lost; veth %.0f Mbit/s,"
                + " %.2f%% lost", IPERF_SECONDS, UDP_RATE, mtu, relayUdp.mbps(), relayUdp.lostPercent(),
                vethUdp.mbps(), vethUdp.lostPercent());

        assertThat(relayTcp.mbps()).as("TCP through the relay moves data").isGreaterThan(1);
        assertThat(relayUdp.mbps()).as("UDP through the relay moves data").isGreaterThan(1);
    }

    @Test
    void aHundredMegabyteFileArrivesSha256Exact() throws Exception {
        Path dir = Files.createTempDirectory("rr-transfer");
        Path source = dir.resolve("source.bin");
        Path received = dir.resolve("received.bin");
        try {
            String sent = writeRandomFile(source, 100L * 1024 * 1024);
            Process server = bed.startInBackground(b.namespace(), "socat", "-u",
                    "TCP-LISTEN:9000,bind=10.0.2.16,reuseaddr", "OPEN:" + received + ",creat,trunc");
            awaitListening(b.namespace(), 9000);
            long start = System.nanoTime();
            CommandResult client = a.exec(Duration.ofSeconds(120), "socat", "-u", "OPEN:" + source,
                    "TCP:10.0.2.16:9000");
            assertThat(client.succeeded()).as(client.describe()).isTrue();
            assertThat(server.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("receiver finished").isTrue();
            double seconds = (System.nanoTime() - start) / 1e9;
            fact("100 MiB over TCP (socat) through the relay: %.1f s, %.0f Mbit/s", seconds,
                    100 * 1024 * 1024 * 8 / seconds / 1e6);
            assertThat(Files.size(received)).isEqualTo(Files.size(source));
            assertThat(sha256(received)).as("sha256 of what arrived").isEqualTo(sent);
        } finally {
            Files.deleteIfExists(source);
            Files.deleteIfExists(received);
            Files.deleteIfExists(dir);
        }
    }

    // ---- measuring ----

    record Rtt(double avg, double max) {
    }

    record IperfTcp(double mbps, long retransmits) {
    }

    record IperfUdp(double mbps, double lostPercent) {
    }

    private static final Pattern RTT = Pattern.compile("= ([0-9.]+)/([0-9.]+)/([0-9.]+)/([0-9.]+) ms");

    private static Rtt pingRtt(Namespace from, String target) {
        CommandResult ping = from.exec(Duration.ofSeconds(20), "ping", "-q", "-c", "20", "-i", "0.05", "-W", "2",
                target);
        assertThat(ping.succeeded()).as(ping.describe()).isTrue();
        Matcher m = RTT.matcher(ping.stdout());
        assertThat(m.find()).as(ping.stdout()).isTrue();
        return new Rtt(Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)));
    }

    private IperfTcp iperfTcp(Namespace client, Namespace server) {
        String json = iperf(client, server, "-t", Integer.toString(IPERF_SECONDS));
        double bps = lastNumber(json, "\"sum_received\":\\s*\\{[^}]*?\"bits_per_second\":\\s*([0-9.eE+]+)");
        double retransmits = lastNumber(json, "\"sum_sent\":\\s*\\{[^}]*?\"retransmits\":\\s*([0-9]+)");
        return new IperfTcp(bps / 1e6, (long) retransmits);
    }

    private IperfUdp iperfUdp(Namespace client, Namespace server) {
        String json = iperf(client, server, "-u", "-b", UDP_RATE, "-t", Integer.toString(IPERF_SECONDS));
        // What arrived (the receiver's count); the loss is in the end summary's "sum".
        double bps = lastNumber(json, "\"sum_received\":\\s*\\{[^}]*?\"bits_per_second\":\\s*([0-9.eE+]+)");
        double lost = lastNumber(json, "\"sum\":\\s*\\{[^}]*?\"lost_percent\":\\s*([0-9.eE+-]+)");
        return new IperfUdp(bps / 1e6, lost);
    }

    /** Runs one iperf3 test from {@code client} to a one-shot server in {@code server} and returns the JSON. */
    private String iperf(Namespace client, Namespace server, String... options) {
        Process listener = bed.startInBackground(server, "iperf3", "-s", "-1", "-B", "10.0.2.16", "-p", "5201");
        awaitListening(server, 5201);
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("iperf3", "-c", "10.0.2.16",
                "-p", "5201", "-J"));
        command.addAll(java.util.List.of(options));
        CommandResult result = client.exec(IPERF_TIMEOUT, command.toArray(String[]::new));
        try {
            listener.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout()).as("iperf3 reports no error").doesNotContain("\"error\"");
        return result.stdout();
    }

    private static double lastNumber(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        assertThat(last).as("'" + regex + "' in iperf3 output:\n" + text).isNotNull();
        return Double.parseDouble(last);
    }

    /** Waits (bounded) until a TCP socket listens on {@code port} inside {@code namespace}. */
    static void awaitListening(Namespace namespace, int port) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            CommandResult ss = namespace.exec("ss", "-Hltn", "sport = :" + port);
            if (ss.succeeded() && !ss.stdout().isBlank()) {
                return;
            }
            try {
                Thread.sleep(50); // polling a listener in another process; bounded by the deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new AssertionError("nothing listens on port " + port + " in " + namespace + " after 10 s");
    }

    private static String macOf(Namespace namespace) {
        String link = namespace.exec("ip", "-o", "link", "show", "eth0").orThrow().stdout();
        Matcher m = Pattern.compile("link/ether ([0-9a-f:]{17})").matcher(link);
        assertThat(m.find()).as(link).isTrue();
        return m.group(1);
    }

    private static String writeRandomFile(Path file, long size) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        Random random = new Random(42);
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long written = 0; written < size; written += chunk.length) {
                random.nextBytes(chunk);
                digest.update(chunk);
                out.write(chunk);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    static void fact(String format, Object... args) {
        System.out.println("[facts] " + String.format(Locale.ROOT, format, args));
    }
}
