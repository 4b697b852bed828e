package dev.riscvrelay.relay.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.bench.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.LinkProxyProcess;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Bulk TCP where users are: hosts on the relay's LAN whose connectors reach the relay through the field bed's
 * impaired links (internet: 20 ms RTT, 1% loss each way, 100 Mbit/s; lossy: 60 ms RTT, 3% loss, 50 Mbit/s). QUIC
 * datagrams are not retransmitted, so the hosts' TCP sees the link's loss and recovers it itself; every transfer
 * must arrive SHA-256 exact within its time bound. Host to host crosses the impaired link twice (up from the sender,
 * down to the receiver); host to the "internet" server goes through the relay's NAT to a server behind the relay's
 * namespace. Rates are printed as {@code [facts]} lines; the lower bounds are loose (a shared 2-core machine runs the
 * relay, up to six connectors, two impaired links and both TCP ends). Sizes keep the class near two minutes: measured
 * here, about 9 Mbit/s behind the internet profile (host to host and to the internet server) and 1.1-1.7 Mbit/s behind
 * the lossy one, as TCP's loss response predicts (rate ~ MSS / RTT * 1.22 / sqrt(loss)).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BulkTcpOverImpairedLinksIT {

    private static final int MIB = 1024 * 1024;

    private FieldBed field;
    private Namespace internet;
    private Path work;

    @BeforeAll
    void build() throws Exception {
        NetnsTestBed.requireTools("ip", "socat", "ss");
        work = Files.createTempDirectory("rr-bulk");
        field = FieldBed.create();
        internet = field.addInternet();
        field.startRelay("bulk", "--allow", "203.0.113.0/24");
    }

    @AfterAll
    void tearDown() throws Exception {
        try {
            if (field != null) {
                field.close();
            }
        } finally {
            if (work != null) {
                try (Stream<Path> files = Files.walk(work)) {
                    for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(path);
                    }
                }
            }
        }
    }

    @Test
    @Order(1)
    void tenMegabytesBothWaysBetweenTwoHostsBehindTheInternetProfile() throws Exception {
        LanHost a = field.addLanHost("neta", "10.0.2.21", LinkProfile.INTERNET);
        LanHost b = field.addLanHost("netb", "10.0.2.22", LinkProfile.INTERNET);
        Payload payload = payload("p10", 10 * MIB, 10);
        double ab = transfer("internet", a.namespace(), b.namespace(), b.address(), 5001, payload,
                Duration.ofSeconds(60));
        double ba = transfer("internet", b.namespace(), a.namespace(), a.address(), 5002, payload,
                Duration.ofSeconds(60));
        assertThat(Math.min(ab, ba)).as("Mbit/s, loose: TCP over 1% loss each way on a busy machine")
                .isGreaterThan(1.0);
        LinkProxyProcess link = field.linkProxy(LinkProfile.INTERNET);
        link.awaitFreshCounters();
        LanThroughRelayIT.fact("internet profile link after the host transfers: up %s, down %s", link.up(),
                link.down());
        assertThat(link.up().lost()).as("the link did lose datagrams").isPositive();
        assertThat(link.up().oversize()).isZero();
    }

    @Test
    @Order(2)
    void twoMegabytesBothWaysBetweenTwoHostsBehindTheLossyProfile() throws Exception {
        LanHost a = field.addLanHost("lossa", "10.0.2.31", LinkProfile.LOSSY);
        LanHost b = field.addLanHost("lossb", "10.0.2.32", LinkProfile.LOSSY);
        Payload payload = payload("p2", 2 * MIB, 2);
        double ab = transfer("lossy", a.namespace(), b.namespace(), b.address(), 5003, payload,
                Duration.ofSeconds(60));
        double ba = transfer("lossy", b.namespace(), a.namespace(), a.address(), 5004, payload,
                Duration.ofSeconds(60));
        assertThat(Math.min(ab, ba)).as("Mbit/s, loose: TCP over 3% loss each way, 60 ms RTT").isGreaterThan(0.3);
        LinkProxyProcess link = field.linkProxy(LinkProfile.LOSSY);
        link.awaitFreshCounters();
        LanThroughRelayIT.fact("lossy profile link after the host transfers: up %s, down %s", link.up(),
                link.down());
        assertThat(link.up().lost()).isPositive();
        assertThat(link.up().oversize()).isZero();
    }

    @Test
    @Order(3)
    void fiftyMegabytesFromAHostBehindTheInternetProfileToAnInternetServer() throws Exception {
        LanHost host = field.addLanHost("netup", "10.0.2.23", LinkProfile.INTERNET);
        Payload payload = payload("p50", 50 * MIB, 50);
        double mbps = transfer("internet", host.namespace(), internet, FieldBed.INTERNET_HOST, 5005, payload,
                Duration.ofSeconds(120));
        assertThat(mbps).as("Mbit/s, loose").isGreaterThan(1.0);
    }

    @Test
    @Order(4)
    void fourMegabytesFromAHostBehindTheLossyProfileToAnInternetServer() throws Exception {
        LanHost host = field.addLanHost("lossup", "10.0.2.33", LinkProfile.LOSSY);
        Payload payload = payload("p4", 4 * MIB, 4);
        double mbps = transfer("lossy", host.namespace(), internet, FieldBed.INTERNET_HOST, 5006, payload,
                Duration.ofSeconds(60));
        assertThat(mbps).as("Mbit/s, loose").isGreaterThan(0.3);
    }

    // ---- transfers ----

    private record Payload(Path file, long size, String sha256) {
    }

    private Payload payload(String name, int size, long seed) throws Exception {
        Path file = work.resolve(name + ".bin");
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        if (!Files.exists(file)) {
            Random random = new Random(seed);
            byte[] chunk = new byte[MIB];
            try (OutputStream out = Files.newOutputStream(file)) {
                for (int written = 0; written < size; written += chunk.length) {
                    random.nextBytes(chunk);
                    out.write(chunk);
                }
            }
        }
        return new Payload(file, size, sha256(file));
    }

    /**
     * Sends {@code payload} over one TCP connection from {@code from} to a one-shot socat receiver in {@code to},
     * bounded by {@code timeout}; asserts it arrived whole and SHA-256 exact and returns the rate in Mbit/s.
     */
    private double transfer(String profile, Namespace from, Namespace to, String toAddress, int port,
            Payload payload, Duration timeout) throws Exception {
        Path received = work.resolve("received-" + port + ".bin");
        Process listener = field.bed().startInBackground(to, "socat", "-u",
                "TCP-LISTEN:" + port + ",bind=" + toAddress + ",reuseaddr", "CREATE:" + received);
        to.awaitListening("-ltn", toAddress + ":" + port);
        long start = System.nanoTime();
        CommandResult send = from.exec(timeout, "socat", "-u", "OPEN:" + payload.file(),
                "TCP:" + toAddress + ":" + port + ",connect-timeout=10");
        boolean done = listener.waitFor(30, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - start) / 1e9;
        long arrived = Files.exists(received) ? Files.size(received) : -1;
        double mbps = arrived * 8 / seconds / 1e6;
        LanThroughRelayIT.fact("%s profile: %d MiB TCP %s -> %s in %.1f s, %.1f Mbit/s%s", profile,
                payload.size() / MIB, from.name().replaceFirst("^rr-[0-9a-f]+-", ""), toAddress, seconds, mbps,
                send.succeeded() ? "" : " (sender FAILED, " + arrived + " bytes arrived)");
        assertThat(send.succeeded()).as(send.describe()).isTrue();
        assertThat(done).as("the receiver got the end of the stream").isTrue();
        assertThat(arrived).isEqualTo(payload.size());
        assertThat(sha256(received)).as("sha256 of what arrived").isEqualTo(payload.sha256());
        Files.delete(received);
        return mbps;
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[MIB];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
