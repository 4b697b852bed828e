package dev.riscvrelay.relay.connect;

import static dev.riscvrelay.relay.testbed.TcpTransfers.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.transport.webtransport.HttpDatagram;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.RelayProcess;
import dev.riscvrelay.relay.testbed.TcpTransfers;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Bulk TCP from a host on the relay's LAN, behind an impaired link, through the relay's NAT to a server in the field
 * bed's "internet" namespace (203.0.113.10, behind the relay's namespace; the relay allows 203.0.113.0/24). The
 * host's TCP ends at the relay's NAT, so only the host-to-relay leg is impaired. One download crosses the clean link
 * and checks how the connector writes it to the host's TAP, one upload how the connector sends it. SHA-256 exact
 * within a time bound; rates as {@code [facts]} lines. Behind the internet profile the upload follows an idle spell
 * and a download, and must beat twice what a QUIC congestion window of ten packets carries (see
 * {@code QuicTransport}); the lossy profile's bound is loose.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BulkTcpToTheInternetIT {

    private static final Duration IDLE_BEFORE = Duration.ofSeconds(25);
    /** 10 packets of 1472 bytes per 20 ms round trip. */
    private static final double TEN_PACKETS_AT_20_MS_MBPS = 10 * 1472 * 8 / 0.020 / 1e6;
    private static final String REPAIRED = "relay_recovery_repaired_total";
    private static final String GIVEN_UP = "relay_recovery_unrepaired_total";

    private FieldBed field;
    private Namespace internet;
    private TcpTransfers transfers;

    @BeforeAll
    void build() throws Exception {
        NetnsTestBed.requireTools("ip", "socat", "ss", "dumpcap", "tshark");
        field = FieldBed.create();
        transfers = field.bed().own(new TcpTransfers(field.bed())); // its files go with the bed
        internet = field.addInternet();
        field.startRelay("bulk-inet", "--allow", "203.0.113.0/24");
    }

    @AfterAll
    void tearDown() {
        if (field != null) {
            field.close();
        }
    }

    @Test
    void fiftyMegabytesFromAHostBehindTheInternetProfileToAnInternetServer() throws Exception {
        LanHost host = field.addLanHost("netup", "10.0.2.23", LinkProfile.INTERNET);
        TcpTransfers.Payload payload = transfers.payload("p50", 50 * MIB, 50);
        // As users do: the host idles, downloads, then uploads. Its connector sends only keep-alives, then only
        // acknowledgements, and in this history its QUIC congestion window fell to quiche BBR's floor; at ten packets
        // (14,720 bytes) that floor carried 5.6 Mbit/s at most across the 20 ms round trip, and the upload ran at 4.6.
        Thread.sleep(IDLE_BEFORE.toMillis());
        transfers.receive("internet profile", internet, FieldBed.INTERNET_HOST, 5007, host.namespace(),
                FieldBed.INTERNET_HOST + ":5007", payload, Duration.ofSeconds(120));
        String before = field.relay().metrics();
        double mbps = transfers.send("internet profile", host.namespace(), internet, FieldBed.INTERNET_HOST, 5005,
                payload, Duration.ofSeconds(120));
        String after = field.relay().metrics();
        System.out.printf("[facts] internet profile upload: relay repaired %.0f lost frames, gave up %.0f%n",
                RelayProcess.metric(after, REPAIRED) - RelayProcess.metric(before, REPAIRED),
                RelayProcess.metric(after, GIVEN_UP) - RelayProcess.metric(before, GIVEN_UP));
        assertThat(mbps).as("Mbit/s: twice what a congestion window of ten packets carries at 20 ms")
                .isGreaterThan(2 * TEN_PACKETS_AT_20_MS_MBPS);
        assertThat(field.linkProxy(LinkProfile.INTERNET).up().oversize()).isZero();
    }

    /**
     * The relay sends a download's segments in GSO bursts of up to 40 datagrams, and the connector joins each burst's
     * segments into TCP super-frames for the TAP. Each super-frame is one packet in the TAP's receive counters, so
     * bytes per packet tell how much of a burst one write carried: about 13 KB when the burst was cut wherever Netty
     * ended a read (every 16 datagrams, and after the first), about 44 KB with a burst per write.
     */
    @Test
    void aDownloadAcrossTheCleanLinkReachesTheHostsTapInSuperFramesOfWholeBursts() throws Exception {
        LanHost host = field.addLanHost("netdown", "10.0.2.24", LinkProfile.CLEAN);
        TcpTransfers.Payload payload = transfers.payload("p50", 50 * MIB, 50);
        long[] before = tapReceived(host);
        transfers.receive("clean link", internet, FieldBed.INTERNET_HOST, 5008, host.namespace(),
                FieldBed.INTERNET_HOST + ":5008", payload, Duration.ofSeconds(60));
        long[] after = tapReceived(host);
        long packets = after[1] - before[1];
        double bytesPerWrite = (double) (after[0] - before[0]) / packets;
        System.out.printf("[facts] clean link download: %d TAP writes, %.0f bytes each%n", packets, bytesPerWrite);
        assertThat(bytesPerWrite).as("bytes per TAP write").isGreaterThan(20 * 1024);
    }

    /**
     * The relay acknowledges the host's TCP segments once per loop turn, after all the datagrams it read in it. When
     * the connector sent a whole TAP read burst (up to 64 frames) in one GSO send, each acknowledgement covered the
     * window, and the host waited for that round trip before it sent more (about 780 Mbit/s in an ad-hoc bed). Sent
     * every 16 datagrams, the relay takes the first while the connector reads the rest (0.97-1.02 Gbit/s). A capture
     * on the host's uplink sees each GSO send as one packet: nine in ten carry at most 16 datagrams. A send may carry
     * more (up to the 40 of one GSO send) when QUIC's window held datagrams back and then let them go together, as on
     * a busy machine whose acknowledgements come late.
     */
    @Test
    void anUploadAcrossTheCleanLinkLeavesTheConnectorInSendsOfAtMostSixteenDatagrams() throws Exception {
        LanHost host = field.addLanHost("netup2", "10.0.2.25", LinkProfile.CLEAN);
        TcpTransfers.Payload payload = transfers.payload("p50", 50 * MIB, 50);
        Path capture = Files.createTempFile("rr-gso", ".pcapng");
        Process dumpcap = field.bed().startInBackground(host.namespace(), "dumpcap", "-q", "-i", "up0", "-s", "96",
                "-f", "udp dst port " + FieldBed.RELAY_PORT, "-w", capture.toString());
        try {
            Thread.sleep(1_000); // dumpcap opens the device
            transfers.send("clean link", host.namespace(), internet, FieldBed.INTERNET_HOST, 5009, payload,
                    Duration.ofSeconds(60));
        } finally {
            dumpcap.destroy(); // SIGTERM: it writes what it has and exits
            dumpcap.waitFor(10, TimeUnit.SECONDS);
        }
        String lengths = NetnsTestBed.run(Duration.ofSeconds(60), "tshark", "-r", capture.toString(), "-T", "fields",
                "-e", "frame.len").orThrow().stdout();
        Files.deleteIfExists(capture);
        int[] sorted = lengths.lines().map(String::strip).filter(line -> !line.isEmpty())
                .mapToInt(Integer::parseInt).sorted().toArray();
        assertThat(sorted.length).as("UDP sends captured").isGreaterThan(1000);
        int largest = sorted[sorted.length - 1];
        int ninetieth = sorted[sorted.length * 9 / 10];
        System.out.printf("[facts] clean link upload: %d UDP sends, median %d bytes, 90th percentile %d, largest %d%n",
                sorted.length, sorted[sorted.length / 2], ninetieth, largest);
        // Ethernet, IPv4 and UDP headers once, then datagrams of at most 1472 bytes (a 1500-byte link).
        assertThat(ninetieth).as("bytes in nine GSO sends in ten").isLessThanOrEqualTo(14 + 20 + 8 + 16 * 1472);
        assertThat(largest).as("bytes in the largest GSO send").isLessThanOrEqualTo(
                14 + 20 + 8 + HttpDatagram.GSO_SEGMENTS * 1472);
        assertThat(largest).as("the connector still sends in GSO bursts").isGreaterThan(8 * 1200);
    }

    /** The TAP's receive counters in the host's namespace: bytes and packets the connector wrote to it. */
    private static long[] tapReceived(LanHost host) {
        String[] counters = host.exec("cat", "/sys/class/net/eth0/statistics/rx_bytes",
                "/sys/class/net/eth0/statistics/rx_packets").orThrow().stdout().trim().split("\\s+");
        return new long[] {Long.parseLong(counters[0]), Long.parseLong(counters[1])};
    }

    @Test
    void fourMegabytesFromAHostBehindTheLossyProfileToAnInternetServer() throws Exception {
        LanHost host = field.addLanHost("lossup", "10.0.2.33", LinkProfile.LOSSY);
        TcpTransfers.Payload payload = transfers.payload("p4", 4 * MIB, 4);
        double mbps = transfers.send("lossy profile", host.namespace(), internet, FieldBed.INTERNET_HOST, 5006, payload,
                Duration.ofSeconds(60));
        assertThat(mbps).as("Mbit/s, loose").isGreaterThan(0.3);
    }
}
