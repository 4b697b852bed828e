package dev.riscvrelay.relay.nat.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.nat.TestFrames;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A real Linux stack in a namespace ("the VM") reaches a real server in an "internet" namespace through the TCP
 * NAT: curl downloads and uploads 100 MB sha256-exact over a clean link and over one that drops 2% and reorders;
 * 200 concurrent connections each verify their data; half-close, a resetting server, a refused port, a host that
 * never answers, a VM that vanishes mid-transfer and malformed segments. See {@link TcpWorld}.
 */
class TcpNatIT {

    private static final int BULK_BYTES = Integer.getInteger("tcp.bulkBytes", 100 * 1024 * 1024);
    private static final TcpConfig CONFIG =
            TcpConfig.defaults().withTimeouts(Duration.ofSeconds(3), Duration.ofMinutes(5), 5);

    /**
     * Measured with Netty's leak detection at its production default (SIMPLE, sampling): PARANOID records a stack
     * trace per buffer and access and would measure the detector. The lossy test moves the same 200 MB through the
     * same code under PARANOID, so leaks are still caught.
     */
    @Test
    void bulkDownloadAndUploadAreExactOnACleanLink() throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
        try (TcpWorld world = new TcpWorld(CONFIG, 0, 0)) {
            double down = download(world, BULK_BYTES, 7);
            double up = upload(world, BULK_BYTES);
            System.out.printf("[facts] TCP NAT, clean TAP link MTU %d: 100 MB download %.0f Mbit/s, upload %.0f"
                    + " Mbit/s (curl in a namespace VM, HTTP server in an internet namespace)%n",
                    TcpWorld.LAN_MTU, down, up);
            printCounters(world);
            assertThat(world.counters.get(Counter.NAT_TCP_BYTES_TO_VM)).isGreaterThanOrEqualTo(BULK_BYTES);
            assertThat(world.counters.get(Counter.NAT_TCP_BYTES_TO_HOST)).isGreaterThanOrEqualTo(BULK_BYTES);
            awaitConnections(world, 0, Duration.ofSeconds(10));
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    @Test
    void bulkDownloadAndUploadAreExactOverTwoPercentLossAndReordering() throws Exception {
        try (TcpWorld world = new TcpWorld(CONFIG, 2, 1)) {
            double down = download(world, BULK_BYTES, 8);
            double up = upload(world, BULK_BYTES);
            System.out.printf("[facts] TCP NAT, 2%% loss + 1%% reordering each way: 100 MB download %.0f Mbit/s,"
                    + " upload %.0f Mbit/s; retransmits to VM %d (fast %d, timeouts %d), VM segments held %d%n",
                    down, up, world.counters.get(Counter.NAT_TCP_RETRANSMITS),
                    world.counters.get(Counter.NAT_TCP_FAST_RETRANSMITS),
                    world.counters.get(Counter.NAT_TCP_TIMEOUTS),
                    world.counters.get(Counter.NAT_TCP_OUT_OF_ORDER_HELD));
            assertThat(world.counters.get(Counter.NAT_TCP_RETRANSMITS)).isPositive();
            assertThat(world.counters.get(Counter.NAT_TCP_OUT_OF_ORDER_HELD)).isPositive();
        }
    }

    @Test
    void twoHundredConcurrentConnectionsEachVerifyTheirData() throws Exception {
        try (TcpWorld world = new TcpWorld(CONFIG, 0, 0)) {
            CommandResult result = world.vm.exec(Duration.ofSeconds(240), "python3",
                    world.scripts.resolve("concurrent_client.py").toString(), TcpWorld.SERVER, "200",
                    Integer.toString(256 * 1024));
            assertThat(result.stdout()).as(result.describe()).contains("ok 200");
            assertThat(world.counters.get(Counter.NAT_TCP_CONNECTIONS_OPENED)).isGreaterThanOrEqualTo(200);
            awaitConnections(world, 0, Duration.ofSeconds(15));
        }
    }

    @Test
    void edgeCasesOneWorld() throws Exception {
        try (TcpWorld world = new TcpWorld(CONFIG, 0, 0)) {
            // Half-close: socat shuts down its sending side at EOF of stdin and still reads the answer.
            CommandResult halfClose = world.vm.exec(Duration.ofSeconds(30), "sh", "-c",
                    "head -c 3000000 /dev/zero | socat -t 20 - TCP:" + TcpWorld.SERVER + ":9000");
            CommandResult zeros = world.vm.exec("sh", "-c", "head -c 3000000 /dev/zero | sha256sum");
            assertThat(halfClose.stdout().trim()).as(halfClose.describe())
                    .isEqualTo("3000000 " + zeros.stdout().split(" ")[0]);

            // Keep-alive: the VM's kernel probes an idle connection every second and gives up after two probes
            // without an answer; the NAT acknowledges them, so 6 s of silence leave the connection alive.
            CommandResult keptAlive = world.vm.exec(Duration.ofSeconds(30), "sh", "-c",
                    "(sleep 6; printf abc) | socat -t 20 - TCP:" + TcpWorld.SERVER
                            + ":9000,keepalive,keepidle=1,keepintvl=1,keepcnt=2");
            CommandResult abc = world.vm.exec("sh", "-c", "printf abc | sha256sum");
            assertThat(keptAlive.stdout().trim()).as(keptAlive.describe())
                    .isEqualTo("3 " + abc.stdout().split(" ")[0]);

            // A server that resets: curl sees the reset (exit 56, "Recv failure").
            CommandResult reset = world.vm.exec(Duration.ofSeconds(30), "curl", "-sS", "--max-time", "20",
                    "http://" + TcpWorld.SERVER + ":9001/");
            assertThat(reset.exitCode()).as(reset.describe()).isEqualTo(56);
            assertThat(world.counters.get(Counter.NAT_TCP_RESETS_FROM_HOST)).isPositive();

            // A refused port: RST to the VM at once (curl exit 7, well under a second).
            long start = System.nanoTime();
            CommandResult refused = world.vm.exec(Duration.ofSeconds(30), "curl", "-sS", "--max-time", "20",
                    "http://" + TcpWorld.SERVER + ":9999/");
            long refusedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(refused.exitCode()).as(refused.describe()).isEqualTo(7);
            assertThat(world.counters.get(Counter.NAT_TCP_CONNECT_REFUSED)).isEqualTo(1);
            assertThat(refusedMillis).isLessThan(2000);

            // A host that never answers: ICMP host unreachable after the 3 s connect timeout.
            start = System.nanoTime();
            CommandResult silent = world.vm.exec(Duration.ofSeconds(60), "curl", "-sS", "--max-time", "50",
                    "http://" + TcpWorld.BLACK_HOLE + ":80/");
            long silentMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(silent.exitCode()).as(silent.describe()).isEqualTo(7);
            assertThat(silentMillis).isBetween(2500L, 10_000L);
            assertThat(world.counters.get(Counter.NAT_TCP_CONNECT_FAILED)).isEqualTo(1);

            // Malformed segments injected as if from the VM: dropped and counted, the relay keeps serving.
            injectMalformed(world);
            assertThat(world.counters.get(Counter.DROP_NAT_TCP_BAD_CHECKSUM)).isEqualTo(1);
            assertThat(world.counters.get(Counter.DROP_NAT_TCP_MALFORMED)).isEqualTo(1);
            assertThat(world.counters.get(Counter.DROP_NAT_TCP_BAD_FLAGS)).isEqualTo(2);
            download(world, 1 << 20, 3);
            awaitConnections(world, 0, Duration.ofSeconds(10));
        }
    }

    @Test
    void vmThatVanishesMidTransferIsFreed() throws Exception {
        try (TcpWorld world = new TcpWorld(CONFIG, 0, 0)) {
            Process curl = world.bed.startInBackground(world.vm, "curl", "-sS", "--limit-rate", "2M", "-o",
                    "/dev/null", "http://" + TcpWorld.SERVER + ":8080/data/100000000/1");
            awaitConnections(world, 1, Duration.ofSeconds(10));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (world.counters.get(Counter.NAT_TCP_BYTES_TO_VM) < 1_000_000 && System.nanoTime() < deadline) {
                Thread.sleep(20); // the transfer running in other processes; bounded
            }
            assertThat(world.counters.get(Counter.NAT_TCP_BYTES_TO_VM)).isGreaterThanOrEqualTo(1_000_000);
            world.unplugVm();
            // 5 retransmissions backing off from 200 ms: about 6 s until the connection is reset and freed.
            awaitConnections(world, 0, Duration.ofSeconds(30));
            assertThat(world.counters.get(Counter.NAT_TCP_ABORTED)).isEqualTo(1);
            curl.destroyForcibly();
        }
    }

    // ---- helpers ----

    private static void printCounters(TcpWorld world) {
        StringBuilder line = new StringBuilder("counters:");
        world.counters.nonZero().forEach((counter, value) -> line.append(' ').append(counter.name()).append('=')
                .append(value));
        System.out.println(line);
    }

    /** GET of {@code bytes} deterministic bytes; checks the sha256 against Python's; returns Mbit/s. */
    private static double download(TcpWorld world, int bytes, int seed) throws Exception {
        String file = "/tmp/rr-tcp-download-" + world.bed.id();
        try {
            CommandResult curl = world.vm.exec(Duration.ofSeconds(300), "curl", "-sS", "--fail", "-o", file,
                    "-w", "%{size_download} %{speed_download}",
                    "http://" + TcpWorld.SERVER + ":8080/data/" + bytes + "/" + seed);
            assertThat(curl.succeeded()).as(curl.describe()).isTrue();
            String[] measured = curl.stdout().trim().split(" ");
            assertThat(Long.parseLong(measured[0])).isEqualTo(bytes);
            String got = world.vm.exec(Duration.ofSeconds(60), "sha256sum", file).orThrow().stdout().split(" ")[0];
            String want = expectedSha256(world, bytes, seed);
            assertThat(got).as("sha256 of the downloaded bytes").isEqualTo(want);
            return Double.parseDouble(measured[1]) * 8 / 1e6;
        } finally {
            world.vm.exec("rm", "-f", file);
        }
    }

    /** PUT of {@code bytes} random bytes; the server answers the sha256 it saw; returns Mbit/s. */
    private static double upload(TcpWorld world, int bytes) throws Exception {
        String file = "/tmp/rr-tcp-upload-" + world.bed.id();
        try {
            world.vm.exec(Duration.ofSeconds(60), "sh", "-c", "head -c " + bytes + " /dev/urandom > " + file)
                    .orThrow();
            String want = world.vm.exec(Duration.ofSeconds(60), "sha256sum", file).orThrow().stdout().split(" ")[0];
            CommandResult curl = world.vm.exec(Duration.ofSeconds(300), "curl", "-sS", "--fail", "-T", file,
                    "-w", "%{size_upload} %{speed_upload}", "http://" + TcpWorld.SERVER + ":8080/sha256");
            assertThat(curl.succeeded()).as(curl.describe()).isTrue();
            String[] lines = curl.stdout().trim().split("\n");
            assertThat(lines[0].trim()).as("sha256 the server saw").isEqualTo(want);
            String[] measured = lines[lines.length - 1].trim().split(" ");
            assertThat(Long.parseLong(measured[0])).isEqualTo(bytes);
            return Double.parseDouble(measured[1]) * 8 / 1e6;
        } finally {
            world.vm.exec("rm", "-f", file);
        }
    }

    private static String expectedSha256(TcpWorld world, int bytes, int seed) {
        String script = "import hashlib,random\nr=random.Random(" + seed + ")\nh=hashlib.sha256()\nleft=" + bytes
                + "\nwhile left>0:\n n=min(1<<20,left)\n h.update(r.randbytes(n))\n left-=n\nprint(h.hexdigest())\n";
        return world.vm.exec(Duration.ofSeconds(60), "python3", "-c", script).orThrow().stdout().trim();
    }

    private static void awaitConnections(TcpWorld world, int count, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (world.tcpConnections() != count && System.nanoTime() < deadline) {
            Thread.sleep(50); // connections closing on the event loop; bounded by the deadline
        }
        assertThat(world.tcpConnections()).as("TCP connections in the NAT").isEqualTo(count);
    }

    private static void injectMalformed(TcpWorld world) throws Exception {
        int vm = Ipv4Address.parse("10.0.2.15");
        int server = Ipv4Address.parse(TcpWorld.SERVER);
        ByteBuf badChecksum = segment(vm, server, TcpPacket.FLAG_SYN, 20);
        badChecksum.setByte(34 + 4, badChecksum.getByte(34 + 4) ^ 1);
        ByteBuf badOffset = segment(vm, server, TcpPacket.FLAG_ACK, 20);
        badOffset.setByte(34 + 12, 0xF0);
        ByteBuf synFin = segment(vm, server, TcpPacket.FLAG_SYN | TcpPacket.FLAG_FIN, 20);
        ByteBuf noFlags = segment(vm, server, 0, 20);
        for (ByteBuf frame : new ByteBuf[] {badChecksum, badOffset, synFin, noFlags}) {
            world.onLoop(() -> {
                TestFrames.deliver(world.nat, frame);
                return null;
            });
        }
    }

    private static ByteBuf segment(int source, int destination, int flags, int tcpLength) {
        ByteBuf frame = ByteBufAllocator.DEFAULT.directBuffer(34 + tcpLength);
        frame.writerIndex(34 + tcpLength);
        EthernetFrame.writeHeader(frame, 0, TestFrames.GATEWAY_MAC, 0x0252_5400_0099L, EthernetFrame.TYPE_IPV4);
        Ipv4Packet.writeHeader(frame, 14, 20 + tcpLength, 1, true, 64, Ipv4Packet.PROTOCOL_TCP, source, destination);
        TcpPacket.writeHeader(frame, 34, 41000, 8080, 1, 0, 20, flags, 1000);
        TcpPacket.fillChecksum(frame, 34, tcpLength, source, destination);
        return frame;
    }
}
