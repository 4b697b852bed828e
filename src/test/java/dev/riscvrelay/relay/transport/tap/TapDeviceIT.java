package dev.riscvrelay.relay.transport.tap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.GatewayResponder;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real Linux stack in a namespace talks to this JVM through a TAP: the JVM answers ARP and ICMP echo for
 * 10.0.2.2 by hand ({@link GatewayResponder}), and the namespace's {@code ping} must succeed.
 */
class TapDeviceIT {

    private static final int MTU = 1500;
    private static final int MAX_FRAME = MTU + TapDevice.ETHERNET_HEADER;

    @BeforeAll
    static void tools() {
        NetnsTestBed.requireTools("ip", "ping");
    }

    @Test
    void pingFromNamespaceIsAnsweredThroughTapMovedIntoIt() throws Exception {
        Counters counters = new Counters();
        try (NetnsTestBed bed = NetnsTestBed.create()) {
            Namespace guest = bed.addNamespace("guest");
            String tapName = bed.newLinkName('t');
            try (TapDevice tap = openAsGuestEth0(bed, guest, tapName, MTU, counters)) {
                GatewayResponder gateway = new GatewayResponder(tap);
                Thread reader = gateway.start();

                CommandResult ping = pingGatewayThreeTimes(guest);

                assertThat(ping.succeeded()).as(ping.describe()).isTrue();
                assertThat(ping.stdout()).contains("3 received");
                assertThat(gateway.arpReplies()).isGreaterThanOrEqualTo(1);
                assertThat(gateway.echoReplies()).isEqualTo(3);
                tap.close();
                reader.join(5_000);
                assertThat(reader.isAlive()).isFalse();
                assertThat(gateway.failure()).isNull();
            }
        }
    }

    @Test
    void tapCreatedInsideNamespaceWithSetnsCarriesPing() throws Exception {
        Counters counters = new Counters();
        try (NetnsTestBed bed = NetnsTestBed.create()) {
            Namespace guest = bed.addNamespace("guest");
            String tapName = bed.newLinkName('n');
            try (TapDevice tap = TapDevice.openInNamespace(guest.path(), TapDevice.Config.forMtu(tapName, MTU),
                    counters)) {
                assertThat(NetnsTestBed.run(Duration.ofSeconds(5), "ip", "link", "show", "dev", tapName)
                        .succeeded()).as("the TAP must not appear in the root namespace").isFalse();
                guest.exec("ip", "address", "add", "10.0.2.15/24", "dev", tapName).orThrow();
                assertThat(guest.exec("ip", "-o", "link", "show", "dev", tapName).orThrow().stdout())
                        .contains("mtu 1500").contains("UP").contains("qlen " + TapDevice.TX_QUEUE_FRAMES);
                Thread reader = new GatewayResponder(tap).start();

                CommandResult ping = pingGatewayThreeTimes(guest);

                assertThat(ping.succeeded()).as(ping.describe()).isTrue();
                // Later changes of the queue act in the TAP's namespace, from this (root namespace) thread.
                assertThat(tap.setTxQueue(TapDevice.LONG_PATH_TX_QUEUE_FRAMES)).isTrue();
                assertThat(guest.exec("ip", "-o", "link", "show", "dev", tapName).orThrow().stdout())
                        .contains("qlen " + TapDevice.LONG_PATH_TX_QUEUE_FRAMES);
                tap.close();
                assertThat(tap.setTxQueue(TapDevice.TX_QUEUE_FRAMES)).as("a closed TAP").isFalse();
                reader.join(5_000);
                assertThat(reader.isAlive()).isFalse();
            }
        }
    }

    @Test
    void frameAboveTheLimitIsDroppedAndCountedAndOneAtTheLimitPasses() throws Exception {
        Counters counters = new Counters();
        try (NetnsTestBed bed = NetnsTestBed.create()) {
            Namespace guest = bed.addNamespace("guest");
            String tapName = bed.newLinkName('t');
            // The namespace may send frames far larger than the connector forwards.
            try (TapDevice tap = openAsGuestEth0(bed, guest, tapName, 9000, counters)) {
                GatewayResponder gateway = new GatewayResponder(tap);
                Thread reader = gateway.start();

                // 1472 bytes of ICMP data + 8 ICMP + 20 IP + 14 Ethernet = 1514: exactly the limit.
                CommandResult atLimit = guest.exec(Duration.ofSeconds(10), "ping", "-c", "1", "-W", "2", "-M", "do",
                        "-s", "1472", "10.0.2.2");
                assertThat(atLimit.succeeded()).as(atLimit.describe()).isTrue();
                assertThat(counters.get(Counter.DROP_TAP_TOO_LARGE)).isZero();

                // One byte more, don't fragment: a 1515-byte frame the connector must drop whole.
                CommandResult aboveLimit = guest.exec(Duration.ofSeconds(10), "ping", "-c", "1", "-W", "1", "-M",
                        "do", "-s", "1473", "10.0.2.2");
                assertThat(aboveLimit.exitCode()).as(aboveLimit.describe()).isEqualTo(1);
                awaitAtLeast(() -> counters.get(Counter.DROP_TAP_TOO_LARGE), 1);
                // And a jumbo frame far beyond the read buffer is dropped too, not split.
                guest.exec(Duration.ofSeconds(10), "ping", "-c", "1", "-W", "1", "-M", "do", "-s", "8000",
                        "10.0.2.2");
                awaitAtLeast(() -> counters.get(Counter.DROP_TAP_TOO_LARGE), 2);
                assertThat(gateway.echoReplies()).isEqualTo(1);

                tap.close();
                reader.join(5_000);
                assertThat(gateway.failure()).isNull();
            }
        }
    }

    @Test
    void tapPortHandsFramesToItsSinkAndSendsRepliesBack() throws Exception {
        Counters counters = new Counters();
        try (NetnsTestBed bed = NetnsTestBed.create()) {
            Namespace guest = bed.addNamespace("guest");
            String tapName = bed.newLinkName('p');
            TapDevice tap = TapDevice.open(TapDevice.Config.forMtu(tapName, MTU), counters);
            GatewayResponder gateway = new GatewayResponder(tap);
            TapPort port = answeringPort(tap, gateway, () -> { });
            try (TapPort started = port.start()) {
                bed.moveLink(tapName, guest, "eth0");
                bed.configureLink(guest, "eth0", MTU, "10.0.2.15/24");

                CommandResult ping = pingGatewayThreeTimes(guest);

                assertThat(ping.succeeded()).as(ping.describe()).isTrue();
                assertThat(started.maxFrameSize()).isEqualTo(MAX_FRAME);
            }
            assertThat(port.readerFailure()).isNull();
            assertThat(gateway.echoReplies()).isEqualTo(3);
        }
    }

    @Test
    void tapPortOnAnEpollLoopReadsOnTheLoopThreadAndClosesCleanly() throws Exception {
        Counters counters = new Counters();
        IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        IoEventLoop loop = (IoEventLoop) group.next();
        try (NetnsTestBed bed = NetnsTestBed.create()) {
            Namespace guest = bed.addNamespace("guest");
            String tapName = bed.newLinkName('l');
            TapDevice tap = TapDevice.open(TapDevice.Config.forMtu(tapName, MTU), counters);
            GatewayResponder gateway = new GatewayResponder(tap);
            AtomicInteger offLoop = new AtomicInteger();
            TapPort started = answeringPort(tap, gateway, () -> {
                if (!loop.inEventLoop()) {
                    offLoop.incrementAndGet();
                }
            }).startOn(loop);
            bed.moveLink(tapName, guest, "eth0");
            bed.configureLink(guest, "eth0", MTU, "10.0.2.15/24");

            CommandResult ping = pingGatewayThreeTimes(guest);

            assertThat(ping.succeeded()).as(ping.describe()).isTrue();
            assertThat(gateway.echoReplies()).isEqualTo(3);
            assertThat(offLoop.get()).as("frames handed to the sink off the loop thread").isZero();
            started.close();
            assertThat(started.readerFailure()).isNull();
            assertThat(tap.isClosed()).isTrue();
            // The loop keeps running without the TAP: a task still runs on it.
            assertThat(loop.submit(() -> 42).get(5, TimeUnit.SECONDS)).isEqualTo(42);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    @Test
    void closeUnblocksAReaderWaitingForFrames() throws Exception {
        String name = "rrclose" + ProcessHandle.current().pid() % 100000;
        TapDevice tap = TapDevice.open(TapDevice.Config.forMtu(name, MTU), new Counters());
        ByteBuf buffer = PooledByteBufAllocator.DEFAULT.directBuffer(MAX_FRAME + 1);
        AtomicInteger result = new AtomicInteger(Integer.MIN_VALUE);
        CountDownLatch reading = new CountDownLatch(1);
        try {
            Thread reader = Thread.ofPlatform().start(() -> {
                reading.countDown();
                try {
                    // The kernel sends a fresh link's IPv6 router solicitations and MLD reports; keep reading.
                    int length;
                    do {
                        buffer.clear();
                        length = tap.read(buffer);
                    } while (length > 0);
                    result.set(length);
                } catch (TapException e) {
                    result.set(-100);
                }
            });
            assertThat(reading.await(5, TimeUnit.SECONDS)).isTrue();
            reader.join(300);
            assertThat(reader.isAlive()).as("reader blocks while no frame arrives").isTrue();

            tap.close();

            reader.join(5_000);
            assertThat(reader.isAlive()).as("close() must wake the blocked reader").isFalse();
            assertThat(result.get()).isEqualTo(-1);
            assertThat(tap.read(buffer)).isEqualTo(-1);
            assertThat(tap.write(buffer)).isFalse();
            assertThat(NetnsTestBed.run(Duration.ofSeconds(5), "ip", "link", "show", "dev", name).succeeded())
                    .as("a non-persistent TAP disappears with its last descriptor").isFalse();
        } finally {
            tap.close();
            buffer.release();
        }
    }

    @Test
    void secondOpenOfATapInUseFailsWithEbusyAndAClearMessage() throws Exception {
        String name = "rrbusy" + ProcessHandle.current().pid() % 100000;
        try (TapDevice first = TapDevice.open(TapDevice.Config.forMtu(name, MTU), new Counters())) {
            assertThat(first.name()).isEqualTo(name);
            assertThatThrownBy(() -> TapDevice.open(TapDevice.Config.forMtu(name, MTU), new Counters()))
                    .isInstanceOf(TapException.class)
                    .hasMessageContaining("in use")
                    .satisfies(e -> assertThat(((TapException) e).errno()).isEqualTo(LinuxSyscalls.EBUSY));
        }
    }

    /**
     * Opens a TAP of the test's MTU and frame limit here and moves it into {@code guest} as eth0, address
     * 10.0.2.15/24, with the guest's link MTU {@code guestMtu}.
     */
    /**
     * The kernel takes a super-frame from {@link SegmentCoalescer}: a real TCP socket in the namespace receives
     * 20 segments that reached its TAP as one GSO packet, byte for byte, and reads back through the virtio-net
     * header work too (its SYN-ACK).
     */
    @Test
    void segmentOffloadTapDeliversASuperFrameToTheNamespacesTcpSocket() throws Exception {
        NetnsTestBed.requireTools("python3");
        Counters counters = new Counters();
        try (NetnsTestBed bed = NetnsTestBed.create()) {
            Namespace guest = bed.addNamespace("guest");
            String tapName = bed.newLinkName('g');
            java.nio.file.Path result = java.nio.file.Files.createTempFile("rr-gso-", ".txt");
            try (TapDevice tap = TapDevice.openInNamespace(guest.path(),
                    TapDevice.Config.forMtu(tapName, MTU).withSegmentOffload(), counters);
                    SegmentCoalescer coalescer = new SegmentCoalescer(tap::writeWithHeader, counters)) {
                guest.exec("ip", "address", "add", "10.0.2.15/24", "dev", tapName).orThrow();
                guest.exec("ip", "neigh", "replace", "10.0.2.2", "lladdr", "52:54:00:12:34:56", "dev", tapName)
                        .orThrow();
                bed.startInBackground(guest, "python3", "-c", String.join("\n",
                        "import hashlib, socket, sys",
                        "s = socket.socket()",
                        "s.bind(('10.0.2.15', 5001))",
                        "s.listen(1)",
                        "c, _ = s.accept()",
                        "h, n = hashlib.sha256(), 0",
                        "while True:",
                        "    b = c.recv(65536)",
                        "    if not b: break",
                        "    h.update(b); n += len(b)",
                        "open(sys.argv[1], 'w').write('%d %s' % (n, h.hexdigest()))"), result.toString());
                guest.awaitListening("-ltn", "10.0.2.15:5001");
                long mac = TcpFrames.macOf(guest.exec("ip", "-o", "link", "show", "dev", tapName).orThrow().stdout());

                int iss = 1_000_000;
                writeAndRelease(tap, TcpFrames.segment(mac, iss, 0, 0, TcpFrames.SYN, new byte[0]));
                int serverIss = TcpFrames.awaitSynAck(tap, Duration.ofSeconds(5));
                int seq = iss + 1;
                int ack = serverIss + 1;
                writeAndRelease(tap, TcpFrames.segment(mac, seq, ack, 0, TcpFrames.ACK, new byte[0]));
                java.security.MessageDigest sent = java.security.MessageDigest.getInstance("SHA-256");
                for (int i = 0; i < 20; i++) {
                    byte[] payload = new byte[1000];
                    java.util.Arrays.fill(payload, (byte) (i * 7 + 1));
                    payload[0] = (byte) i;
                    sent.update(payload);
                    ByteBuf segment = TcpFrames.segment(mac, seq, ack, i, TcpFrames.ACK | (i == 19 ? TcpFrames.PSH : 0),
                            payload);
                    coalescer.offer(segment);
                    segment.release();
                    seq += 1000;
                }
                coalescer.flush();
                writeAndRelease(tap,
                        TcpFrames.segment(mac, seq, ack, 20, TcpFrames.FIN | TcpFrames.ACK, new byte[0]));

                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (java.nio.file.Files.size(result) == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(20); // the receiver writes its result file once the FIN arrived
                }
                assertThat(java.nio.file.Files.readString(result)).isEqualTo("20000 "
                        + java.util.HexFormat.of().formatHex(sent.digest()));
                assertThat(counters.get(Counter.TAP_SEGMENTS_COALESCED)).isEqualTo(19);
                assertThat(counters.get(Counter.DROP_TAP_WRITE_FAILED)).isZero();
            } finally {
                java.nio.file.Files.deleteIfExists(result);
            }
        }
    }

    /** A port whose sink answers ARP and ping as the gateway would; {@code onFrame} sees each frame first. */
    private static TapPort answeringPort(TapDevice tap, GatewayResponder gateway, Runnable onFrame) {
        TapPort[] port = new TapPort[1];
        port[0] = new TapPort(tap, PooledByteBufAllocator.DEFAULT, frame -> {
            onFrame.run();
            ByteBuf reply = PooledByteBufAllocator.DEFAULT.directBuffer(MAX_FRAME);
            try {
                if (gateway.answer(frame, reply)) {
                    port[0].send(reply.retain());
                }
            } finally {
                reply.release();
                frame.release();
            }
        });
        return port[0];
    }

    private static void writeAndRelease(TapDevice tap, ByteBuf frame) {
        try {
            assertThat(tap.write(frame)).isTrue();
        } finally {
            frame.release();
        }
    }

    private static TapDevice openAsGuestEth0(NetnsTestBed bed, Namespace guest, String tapName, int guestMtu,
            Counters counters) throws TapException {
        TapDevice tap = TapDevice.open(new TapDevice.Config(tapName, MTU, MAX_FRAME), counters);
        try {
            bed.moveLink(tapName, guest, "eth0");
            bed.configureLink(guest, "eth0", guestMtu, "10.0.2.15/24");
            return tap;
        } catch (RuntimeException | Error e) {
            tap.close();
            throw e;
        }
    }

    private static CommandResult pingGatewayThreeTimes(Namespace guest) {
        return guest.exec(Duration.ofSeconds(15), "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.2.2");
    }

    private static void awaitAtLeast(LongSupplier value, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (value.getAsLong() < expected && System.nanoTime() < deadline) {
            Thread.sleep(10); // polling a counter the reader thread bumps; bounded by the deadline
        }
        assertThat(value.getAsLong()).isGreaterThanOrEqualTo(expected);
    }
}
