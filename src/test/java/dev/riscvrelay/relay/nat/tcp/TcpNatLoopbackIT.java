package dev.riscvrelay.relay.nat.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.NatConfig;
import dev.riscvrelay.relay.nat.TestFrames;
import dev.riscvrelay.relay.nat.VmFrames;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The TCP NAT with hand-built VM segments against real loopback host sockets, through its Netty adapter and an epoll
 * loop (an integration test: the protocol scenarios run on virtual time in TcpEndpointTest): handshake only after the host
 * accepted, MSS clamp and options, data both ways, half-close, refusal, strays, malformed segments, timeout
 * retransmission, and out-of-order segments held and SACKed.
 */
class TcpNatLoopbackIT {

    private static final long VM_MAC = 0x0252_5400_000AL;
    private static final int VM = Ipv4Address.parse("10.0.2.15");
    private static final int LOOPBACK = Ipv4Address.parse("127.0.0.1");
    private static final int VM_ISN = 0xFFFF_FF00; // wraps around 2^32 within the first 256 bytes
    private static final Duration MIN_RTO = Duration.ofMillis(20);

    private static EventLoopGroup group;
    private static EventLoop loop;

    /** What the NAT sent to the VM, with when it did: a timeout is measured from the send, not from the test's look. */
    private final BlockingQueue<Emitted> emitted = new LinkedBlockingQueue<>();
    private final Counters counters = new Counters();
    private TcpNat nat;
    private ServerSocket server;
    private int vmPort = 40000;

    @BeforeAll
    static void startLoop() {
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        loop = group.next();
    }

    @AfterAll
    static void stopLoop() throws Exception {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    @BeforeEach
    void start() throws Exception {
        useNat(TcpConfig.defaults().withTimeouts(Duration.ofSeconds(2), Duration.ofMinutes(1), 3));
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    /**
     * Retransmission timing is TcpEndpointTest's, on virtual time; the tests of the real timer path (through the
     * host socket's one Netty timer) take a 20 ms RTO floor so they run in milliseconds. The others keep the
     * default 200 ms, so a busy machine does not see spurious retransmissions between their steps.
     */
    private void useShortRto() throws Exception {
        onLoop(() -> {
            nat.closeAll();
            return null;
        });
        TcpConfig d = TcpConfig.defaults();
        useNat(new TcpConfig(d.maxConnectionsPerVm(), d.maxConnections(), Duration.ofSeconds(2),
                Duration.ofMinutes(1), d.timeWait(), d.sendBufferBytes(), d.receiveWindowBytes(), MIN_RTO,
                MIN_RTO.multipliedBy(2), 3, d.outOfOrderSegments()));
    }

    private void useNat(TcpConfig config) throws Exception {
        NetworkConfig network = NetworkConfig.defaults().withMtu(1500);
        nat = onLoop(() -> new TcpNat(network, config, new VmFrames(PooledByteBufAllocator.DEFAULT, network,
                NatConfig.defaults()),
                frame -> emitted.add(new Emitted(frame, System.nanoTime())), counters, NanoClock.SYSTEM, loop));
    }

    @AfterEach
    void stop() throws Exception {
        onLoop(() -> {
            nat.closeAll();
            return null;
        });
        server.close();
        Emitted left;
        while ((left = emitted.poll()) != null) {
            left.frame().release();
        }
    }

    @Test
    void synAckWaitsForTheHostAndClampsTheMss() throws Exception {
        send(segment(TcpPacket.FLAG_SYN, VM_ISN, 0, 65535, synOptions(65495, 7, true), new byte[0]));
        Socket host = server.accept();
        try (host) {
            SeenSegment synAck = next();
            assertThat(synAck.flags).isEqualTo(TcpPacket.FLAG_SYN | TcpPacket.FLAG_ACK);
            assertThat(synAck.ack).isEqualTo(VM_ISN + 1);
            assertThat(synAck.mss).isEqualTo(1460);
            assertThat(synAck.windowScale).isEqualTo(TcpConfig.defaults().receiveWindowScale());
            assertThat(synAck.sackPermitted).isTrue();
            assertThat(synAck.sourcePort).isEqualTo(server.getLocalPort());
            assertThat(synAck.destinationPort).isEqualTo(vmPort);
            assertThat(onLoop(() -> nat.connectionCount())).isEqualTo(1);
        }
    }

    @Test
    void dataFlowsBothWaysAndHalfCloseKeepsTheOtherDirection() throws Exception {
        Connected c = connect();
        try (Socket host = c.host) {
            send(segment(TcpPacket.FLAG_ACK | TcpPacket.FLAG_PSH, VM_ISN + 1, c.iss + 1, 1000, new byte[0],
                    text("hello host")));
            SeenSegment ack = next();
            assertThat(ack.ack).isEqualTo(VM_ISN + 1 + 10);
            InputStream in = host.getInputStream();
            assertThat(new String(in.readNBytes(10), StandardCharsets.US_ASCII)).isEqualTo("hello host");

            // VM closes its side: the host reads EOF but can still answer.
            send(segment(TcpPacket.FLAG_ACK | TcpPacket.FLAG_FIN, VM_ISN + 11, c.iss + 1, 1000, new byte[0],
                    new byte[0]));
            SeenSegment finAck = next();
            assertThat(finAck.ack).isEqualTo(VM_ISN + 12);
            assertThat(in.read()).isEqualTo(-1);

            OutputStream out = host.getOutputStream();
            out.write(text("hello vm"));
            out.flush();
            SeenSegment data = next();
            assertThat(data.seq).isEqualTo(c.iss + 1);
            assertThat(data.data).isEqualTo(text("hello vm"));
            host.shutdownOutput();
            SeenSegment fin = next();
            assertThat(fin.flags & TcpPacket.FLAG_FIN).isNotZero();
            assertThat(fin.seq).isEqualTo(c.iss + 1 + 8);
            send(segment(TcpPacket.FLAG_ACK, VM_ISN + 12, c.iss + 1 + 8 + 1, 1000, new byte[0], new byte[0]));
            awaitCounter(Counter.NAT_TCP_CONNECTIONS_CLOSED, 1);
            assertThat(onLoop(() -> nat.connectionCount())).isZero();
        }
    }

    @Test
    void refusedPortIsResetAtOnce() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        send(segmentTo(closedPort, TcpPacket.FLAG_SYN, VM_ISN, 0, 65535, synOptions(1460, 7, true)));
        SeenSegment reset = next();
        assertThat(reset.flags).isEqualTo(TcpPacket.FLAG_RST | TcpPacket.FLAG_ACK);
        assertThat(reset.ack).isEqualTo(VM_ISN + 1);
        assertThat(counters.get(Counter.NAT_TCP_CONNECT_REFUSED)).isEqualTo(1);
        awaitCounter(Counter.NAT_TCP_CONNECTIONS_CLOSED, 1);
    }

    @Test
    void segmentForNoConnectionIsAnsweredWithReset() throws Exception {
        send(segment(TcpPacket.FLAG_ACK, 1000, 0x12345678, 1000, new byte[0], text("x")));
        SeenSegment reset = next();
        assertThat(reset.flags).isEqualTo(TcpPacket.FLAG_RST);
        assertThat(reset.seq).isEqualTo(0x12345678);
        assertThat(counters.get(Counter.DROP_NAT_TCP_NO_CONNECTION)).isEqualTo(1);
    }

    @Test
    void malformedSegmentsAreDroppedAndCounted() throws Exception {
        ByteBuf badChecksum = segment(TcpPacket.FLAG_SYN, VM_ISN, 0, 1000, new byte[0], new byte[0]);
        badChecksum.setByte(badChecksum.readerIndex() + 34 + 16, badChecksum.getByte(34 + 16) ^ 0x55);
        send(badChecksum);
        ByteBuf badOffset = segment(TcpPacket.FLAG_ACK, VM_ISN, 0, 1000, new byte[0], text("abcdefgh"));
        badOffset.setByte(34 + 12, 0xF0); // 60-byte header in a 28-byte segment
        send(badOffset);
        send(segment(TcpPacket.FLAG_SYN | TcpPacket.FLAG_FIN, VM_ISN, 0, 1000, new byte[0], new byte[0]));
        send(segment(0, VM_ISN, 0, 1000, new byte[0], new byte[0])); // no flags at all
        send(segment(TcpPacket.FLAG_SYN, VM_ISN, 0, 1000, new byte[] {2, 0, 0, 0}, new byte[0])); // MSS len 0
        assertThat(counters.get(Counter.DROP_NAT_TCP_BAD_CHECKSUM)).isEqualTo(1);
        assertThat(counters.get(Counter.DROP_NAT_TCP_MALFORMED)).isEqualTo(2);
        assertThat(counters.get(Counter.DROP_NAT_TCP_BAD_FLAGS)).isEqualTo(2);
        assertThat(emitted.poll()).as("drops answer nothing; they are decided on the loop, which is done").isNull();
        assertThat(onLoop(() -> nat.connectionCount())).isZero();
    }

    @Test
    void unacknowledgedDataIsRetransmittedAfterTheTimeout() throws Exception {
        useShortRto();
        Connected c = connect();
        try (Socket host = c.host) {
            host.getOutputStream().write(text("please ack me"));
            Emitted sentFirst = nextEmitted();
            SeenSegment first = new SeenSegment(sentFirst.frame(), VM_MAC, VM);
            assertThat(first.data).isEqualTo(text("please ack me"));
            Emitted sentAgain = nextEmitted();
            SeenSegment again = new SeenSegment(sentAgain.frame(), VM_MAC, VM);
            long waited = sentAgain.nanos() - sentFirst.nanos();
            assertThat(again.seq).isEqualTo(first.seq);
            assertThat(again.data).isEqualTo(first.data);
            // The NAT arms its timer from the clock it read before sending: allow that much, a millisecond at most.
            assertThat(waited).isGreaterThanOrEqualTo(MIN_RTO.minusMillis(1).toNanos());
            assertThat(counters.get(Counter.NAT_TCP_TIMEOUTS)).isGreaterThanOrEqualTo(1);
            send(segment(TcpPacket.FLAG_ACK, VM_ISN + 1, c.iss + 1 + 13, 1000, new byte[0], new byte[0]));
        }
    }

    @Test
    void vmThatStopsAnsweringIsResetAndFreedAfterTheRetransmissions() throws Exception {
        useShortRto();
        Connected c = connect();
        try (Socket host = c.host) {
            host.getOutputStream().write(text("anyone there?"));
            // minRto 20 ms, doubling to 40 ms, 3 retransmissions: about 0.15 s.
            awaitCounter(Counter.NAT_TCP_ABORTED, 1, Duration.ofSeconds(5));
            assertThat(onLoop(() -> nat.connectionCount())).isZero();
            assertThat(host.getInputStream().read()).as("the host is reset too").isLessThan(0);
        } catch (java.net.SocketException reset) {
            assertThat(reset.getMessage()).contains("reset");
        }
        Emitted sent;
        boolean sawReset = false;
        while ((sent = emitted.poll()) != null) {
            sawReset |= (new SeenSegment(sent.frame(), VM_MAC, VM).flags & TcpPacket.FLAG_RST) != 0;
        }
        assertThat(sawReset).isTrue();
    }

    @Test
    void outOfOrderSegmentIsHeldAndSackedThenDeliveredInOrder() throws Exception {
        Connected c = connect();
        try (Socket host = c.host) {
            int base = VM_ISN + 1;
            send(segment(TcpPacket.FLAG_ACK, base + 5, c.iss + 1, 1000, new byte[0], text("world")));
            SeenSegment duplicate = next();
            assertThat(duplicate.ack).isEqualTo(base);
            assertThat(duplicate.sackBlocks).isEqualTo(1);
            assertThat(duplicate.sackLeft[0]).isEqualTo(base + 5);
            assertThat(duplicate.sackRight[0]).isEqualTo(base + 10);
            send(segment(TcpPacket.FLAG_ACK, base, c.iss + 1, 1000, new byte[0], text("hello")));
            SeenSegment ack = next();
            assertThat(ack.ack).isEqualTo(base + 10);
            assertThat(ack.sackBlocks).isZero();
            assertThat(new String(host.getInputStream().readNBytes(10), StandardCharsets.US_ASCII))
                    .isEqualTo("helloworld");
            assertThat(counters.get(Counter.NAT_TCP_OUT_OF_ORDER_HELD)).isEqualTo(1);
        }
    }

    @Test
    void resetFromTheVmResetsTheHost() throws Exception {
        Connected c = connect();
        try (Socket host = c.host) {
            send(segment(TcpPacket.FLAG_RST, VM_ISN + 1, 0, 0, new byte[0], new byte[0]));
            awaitCounter(Counter.NAT_TCP_RESETS_FROM_VM, 1);
            try {
                assertThat(host.getInputStream().read()).isLessThan(0);
            } catch (java.net.SocketException reset) {
                assertThat(reset.getMessage()).contains("reset");
            }
            assertThat(onLoop(() -> nat.connectionCount())).isZero();
        }
    }

    @Test
    void serviceConnectionGoesToTheUpstreamWhileTheVmTalksToTheAddressItDialled() throws Exception {
        int dnsAddress = Ipv4Address.parse("10.0.2.3");
        InetSocketAddress upstream = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
        sendToService(segmentTo(dnsAddress, 53, TcpPacket.FLAG_SYN, VM_ISN, 0, 65535, synOptions(1460, 0, true),
                new byte[0]), upstream);
        Socket host = server.accept();
        try (host) {
            SeenSegment synAck = next();
            assertThat(synAck.flags).isEqualTo(TcpPacket.FLAG_SYN | TcpPacket.FLAG_ACK);
            assertThat(synAck.sourceAddress).isEqualTo(dnsAddress);
            assertThat(synAck.sourcePort).isEqualTo(53);
            assertThat(counters.get(Counter.NAT_TCP_SERVICE_CONNECTIONS)).isEqualTo(1);
            // Later segments find the connection by the address the VM dialled; the upstream is only for the SYN.
            sendToService(segmentTo(dnsAddress, 53, TcpPacket.FLAG_ACK | TcpPacket.FLAG_PSH, VM_ISN + 1,
                    synAck.seq + 1, 65535, new byte[0], text("query")), upstream);
            assertThat(next().ack).isEqualTo(VM_ISN + 1 + 5);
            assertThat(new String(host.getInputStream().readNBytes(5), StandardCharsets.US_ASCII))
                    .isEqualTo("query");
            host.getOutputStream().write(text("answer"));
            SeenSegment answer = next();
            assertThat(answer.sourceAddress).isEqualTo(dnsAddress);
            assertThat(answer.sourcePort).isEqualTo(53);
            assertThat(answer.data).isEqualTo(text("answer"));
            assertThat(counters.get(Counter.NAT_TCP_SERVICE_CONNECTIONS)).isEqualTo(1);
        }
    }

    // ---- helpers ----

    private record Connected(Socket host, int iss) {
    }

    private Connected connect() throws Exception {
        send(segment(TcpPacket.FLAG_SYN, VM_ISN, 0, 65535, synOptions(1460, 0, true), new byte[0]));
        Socket host = server.accept();
        SeenSegment synAck = next();
        assertThat(synAck.flags).isEqualTo(TcpPacket.FLAG_SYN | TcpPacket.FLAG_ACK);
        send(segment(TcpPacket.FLAG_ACK, VM_ISN + 1, synAck.seq + 1, 65535, new byte[0], new byte[0]));
        return new Connected(host, synAck.seq);
    }

    private static byte[] synOptions(int mss, int windowScale, boolean sack) {
        ByteBuf options = ByteBufAllocator.DEFAULT.heapBuffer(12, 12);
        options.writerIndex(12);
        int at = TcpPacket.writeMssOption(options, 0, mss);
        at += TcpPacket.writeWindowScaleOption(options, at, windowScale);
        if (sack) {
            at += TcpPacket.writeSackPermittedOption(options, at);
        }
        byte[] bytes = ByteBufUtil.getBytes(options, 0, at);
        options.release();
        return bytes;
    }

    private ByteBuf segment(int flags, int seq, int ack, int window, byte[] options, byte[] data) {
        return segmentTo(server.getLocalPort(), flags, seq, ack, window, options, data);
    }

    private ByteBuf segmentTo(int port, int flags, int seq, int ack, int window, byte[] options) {
        return segmentTo(port, flags, seq, ack, window, options, new byte[0]);
    }

    private ByteBuf segmentTo(int port, int flags, int seq, int ack, int window, byte[] options, byte[] data) {
        return segmentTo(LOOPBACK, port, flags, seq, ack, window, options, data);
    }

    private ByteBuf segmentTo(int address, int port, int flags, int seq, int ack, int window, byte[] options,
            byte[] data) {
        int headerLength = TcpPacket.MIN_HEADER_LENGTH + options.length;
        int tcpLength = headerLength + data.length;
        ByteBuf frame = ByteBufAllocator.DEFAULT.directBuffer(34 + tcpLength);
        frame.writerIndex(34 + tcpLength);
        EthernetFrame.writeHeader(frame, 0, TestFrames.GATEWAY_MAC, VM_MAC, EthernetFrame.TYPE_IPV4);
        Ipv4Packet.writeHeader(frame, 14, 20 + tcpLength, 1, true, 64, Ipv4Packet.PROTOCOL_TCP, VM, address);
        TcpPacket.writeHeader(frame, 34, vmPort, port, seq, ack, headerLength, flags, window);
        frame.setBytes(54, options);
        frame.setBytes(34 + headerLength, data);
        TcpPacket.fillChecksum(frame, 34, tcpLength, VM, address);
        return frame;
    }

    private void send(ByteBuf frame) throws Exception {
        sendToService(frame, null);
    }

    /** Through the service entry when {@code upstream} is set, else as ordinary NAT traffic. */
    private void sendToService(ByteBuf frame, InetSocketAddress upstream) throws Exception {
        onLoop(() -> {
            TestFrames.deliver(frame, (ethernet, ip) -> {
                if (upstream == null) {
                    nat.onSegment(ethernet, ip);
                } else {
                    nat.onServiceSegment(ethernet, ip, upstream);
                }
            });
            return null;
        });
    }

    private record Emitted(ByteBuf frame, long nanos) {
    }

    private SeenSegment next() throws InterruptedException {
        return new SeenSegment(nextEmitted().frame(), VM_MAC, VM);
    }

    private Emitted nextEmitted() throws InterruptedException {
        Emitted sent = emitted.poll(5, TimeUnit.SECONDS);
        assertThat(sent).as("a segment to the VM within 5 s").isNotNull();
        return sent;
    }

    private void awaitCounter(Counter counter, long value) throws InterruptedException {
        awaitCounter(counter, value, Duration.ofSeconds(5));
    }

    private void awaitCounter(Counter counter, long value, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (counters.get(counter) < value && System.nanoTime() < deadline) {
            Thread.sleep(10); // polling a counter the event loop bumps; bounded by the deadline
        }
        assertThat(counters.get(counter)).as(counter.name()).isEqualTo(value);
    }

    private static <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
