package dev.riscvrelay.relay.nat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.tcp.TcpConfig;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.TcpPacket;
import dev.riscvrelay.relay.wire.UdpPacket;
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
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The NAT's IPv6 side with real sockets on the IPv6 loopback (::1, which the policy here allows): UDP and TCP carried
 * out and back with IPv6 pseudo-header checksums, a closed port answered ICMPv6 port unreachable, a stray segment
 * reset over IPv6; a denied destination and a source outside the LAN's /64 refused, counted.
 */
class NatIpv6Test {

    private static final long VM_MAC = 0x5255_0A00_020FL;
    private static final long PREFIX = NetworkConfig.DEFAULT_IPV6_PREFIX;
    private static final long VM_LOW = 0x5055_0AFF_FE00_020FL;
    private static final long LOOPBACK_LOW = 1;

    private final Counters counters = new Counters();
    private final BlockingQueue<ByteBuf> emitted = new LinkedBlockingQueue<>();
    private EventLoopGroup group;
    private EventLoop loop;
    private Nat nat;

    @BeforeEach
    void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        loop = group.next();
        Ipv6EgressPolicy policy6 = Ipv6EgressPolicy.create(new EgressRules(List.of(), List.of(),
                List.of(Ipv6Cidr.parse("::1/128")), List.of()), List.of());
        nat = onLoop(() -> new Nat(NetworkConfig.defaults(), NatConfig.defaults(), TcpConfig.defaults(),
                EgressPolicy.create(EgressRules.NONE, List.of()), policy6, loop, emitted::add, counters,
                System::nanoTime, PooledByteBufAllocator.DEFAULT, HostBudget.unlimitedShare()));
    }

    @AfterEach
    void stop() throws Exception {
        onLoop(() -> {
            nat.close();
            return null;
        });
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        ByteBuf left;
        while ((left = emitted.poll()) != null) {
            left.release();
        }
    }

    @Test
    void udpGoesOutAndTheReplyComesBackAsAnIpv6FrameWithAValidChecksum() throws Exception {
        try (DatagramSocket echo = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("::1"), 0))) {
            byte[] data = "over six".getBytes(StandardCharsets.US_ASCII);
            assertThat(send(udp(PREFIX, VM_LOW, 0, LOOPBACK_LOW, 40000, echo.getLocalPort(), data)))
                    .isEqualTo(Nat.IPV6_HANDLED);
            DatagramPacket packet = new DatagramPacket(new byte[64], 64);
            echo.setSoTimeout(5000);
            echo.receive(packet);
            assertThat(new String(packet.getData(), 0, packet.getLength(), StandardCharsets.US_ASCII))
                    .isEqualTo("over six");
            echo.send(new DatagramPacket("back".getBytes(StandardCharsets.US_ASCII), 4, packet.getSocketAddress()));

            Seen reply = next();
            assertThat(reply.nextHeader).isEqualTo(Ipv6Packet.NEXT_HEADER_UDP);
            UdpPacket view = new UdpPacket();
            assertThat(view.wrap(reply.frame, reply.ip.payloadOffset(), reply.ip.payloadLength()))
                    .isEqualTo(ParseResult.OK);
            assertThat(view.sourcePort()).isEqualTo(echo.getLocalPort());
            assertThat(view.destinationPort()).isEqualTo(40000);
            assertThat(view.checksumValidOverIpv6(0, LOOPBACK_LOW, PREFIX, VM_LOW)).isTrue();
            assertThat(reply.frame.toString(view.dataOffset(), view.dataLength(), StandardCharsets.US_ASCII))
                    .isEqualTo("back");
            reply.release();
            assertThat(onLoop(() -> nat.udp().flowCount(VM_MAC))).isEqualTo(1);
            assertThat(counters.get(Counter.NAT_IPV6_PACKETS_OUT)).isEqualTo(1);
            assertThat(counters.get(Counter.NAT_UDP_DATAGRAMS_IN)).isEqualTo(1);
        }
    }

    @Test
    void aClosedPortIsAnsweredIcmpv6PortUnreachableFromTheDestination() throws Exception {
        int closedPort;
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("::1"), 0))) {
            closedPort = socket.getLocalPort();
        }
        send(udp(PREFIX, VM_LOW, 0, LOOPBACK_LOW, 40001, closedPort, new byte[] {1, 2, 3}));

        Seen error = next();
        assertThat(error.nextHeader).isEqualTo(Ipv6Packet.NEXT_HEADER_ICMPV6);
        assertThat(error.ip.sourceLow()).as("from the destination itself").isEqualTo(LOOPBACK_LOW);
        Icmpv6Packet icmp = new Icmpv6Packet();
        assertThat(icmp.wrap(error.ip)).isEqualTo(ParseResult.OK);
        assertThat(icmp.type()).isEqualTo(Icmpv6Packet.TYPE_DESTINATION_UNREACHABLE);
        assertThat(icmp.code()).isEqualTo(Icmpv6Packet.CODE_PORT_UNREACHABLE);
        int quoted = icmp.offset() + Icmpv6Packet.ERROR_HEADER_LENGTH;
        assertThat(error.frame.getLong(quoted + 8)).as("the quoted packet's source: the VM").isEqualTo(PREFIX);
        assertThat(error.frame.getUnsignedShort(quoted + 40)).as("and its UDP source port").isEqualTo(40001);
        error.release();
        assertThat(counters.get(Counter.NAT_UDP_PORT_UNREACHABLE)).isEqualTo(1);
        assertThat(counters.get(Counter.NAT_IPV6_UNREACHABLE)).isEqualTo(1);
    }

    @Test
    void tcpIsTerminatedAndCarriedOverTheSameEndpointWithTheIpv6Mss() throws Exception {
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
            server.setSoTimeout(5000);
            int port = server.getLocalPort();
            send(tcp(40002, port, 1000, 0, TcpPacket.FLAG_SYN, new byte[0]));
            try (Socket accepted = server.accept()) {
                Seen synAck = next();
                TcpPacket view = synAck.tcp();
                assertThat(view.flags()).isEqualTo(TcpPacket.FLAG_SYN | TcpPacket.FLAG_ACK);
                assertThat(view.acknowledgementNumber()).isEqualTo(1001);
                assertThat(view.parseOptions()).isEqualTo(ParseResult.OK);
                assertThat(view.mss()).as("LAN MTU - 40 - 20").isEqualTo(NetworkConfig.DEFAULT_MTU - 60);
                int iss = view.sequenceNumber();
                synAck.release();

                send(tcp(40002, port, 1001, iss + 1, TcpPacket.FLAG_ACK | TcpPacket.FLAG_PSH,
                        "ping6".getBytes(StandardCharsets.US_ASCII)));
                accepted.setSoTimeout(5000);
                InputStream in = accepted.getInputStream();
                assertThat(new String(in.readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("ping6");
                OutputStream out = accepted.getOutputStream();
                out.write("pong6".getBytes(StandardCharsets.US_ASCII));
                out.flush();

                Seen data = next();
                while (data.tcp().dataLength() == 0) { // the ACK of ping6 may come first
                    data.release();
                    data = next();
                }
                TcpPacket segment = data.tcp();
                assertThat(segment.sourcePort()).isEqualTo(port);
                assertThat(segment.sequenceNumber()).isEqualTo(iss + 1);
                assertThat(data.frame.toString(segment.dataOffset(), segment.dataLength(), StandardCharsets.US_ASCII))
                        .isEqualTo("pong6");
                data.release();
            }
        }
        assertThat(onLoop(() -> nat.tcp().connectionCount(VM_MAC))).isEqualTo(1);
        assertThat(counters.get(Counter.DROP_NAT_TCP_BAD_CHECKSUM)).isZero();
    }

    @Test
    void aSegmentOfNoConnectionIsResetOverIpv6() throws Exception {
        send(tcp(40003, 9, 5000, 777, TcpPacket.FLAG_ACK, new byte[0]));
        Seen reset = next();
        TcpPacket view = reset.tcp();
        assertThat(view.flags()).isEqualTo(TcpPacket.FLAG_RST);
        assertThat(view.sequenceNumber()).as("the segment's ACK").isEqualTo(777);
        assertThat(view.destinationPort()).isEqualTo(40003);
        reset.release();
        assertThat(counters.get(Counter.DROP_NAT_TCP_NO_CONNECTION)).isEqualTo(1);
    }

    @Test
    void aDeniedDestinationIsLeftToTheGatewayToAnswerProhibited() throws Exception {
        long[] documentation = Ipv6Address.parse("2001:db8::1");
        int code = send(udp(PREFIX, VM_LOW, documentation[0], documentation[1], 40004, 53, new byte[4]));
        assertThat(code).isEqualTo(Icmpv6Packet.CODE_ADMIN_PROHIBITED);
        assertThat(counters.get(Counter.NAT_EGRESS_DENIED)).isEqualTo(1);
        assertThat(onLoop(() -> nat.udp().flowCount())).isZero();
        assertThat(emitted).isEmpty();
    }

    @Test
    void aSourceOutsideTheLansPrefixIsDroppedAndCounted() throws Exception {
        int code = send(udp(Ipv6Address.LINK_LOCAL_PREFIX, VM_LOW, 0, LOOPBACK_LOW, 40005, 53, new byte[4]));
        assertThat(code).isEqualTo(Nat.IPV6_HANDLED);
        assertThat(counters.get(Counter.DROP_NAT_IPV6_SOURCE)).isEqualTo(1);
        assertThat(onLoop(() -> nat.udp().flowCount())).isZero();
    }

    @Test
    void aBadUdpChecksumAndAnExtensionHeaderAreDropped() throws Exception {
        ByteBuf bad = udp(PREFIX, VM_LOW, 0, LOOPBACK_LOW, 40006, 53, new byte[4]);
        bad.setShort(14 + 40 + 6, bad.getUnsignedShort(14 + 40 + 6) ^ 0x0101);
        send(bad);
        ByteBuf fragment = udp(PREFIX, VM_LOW, 0, LOOPBACK_LOW, 40006, 53, new byte[4]);
        fragment.setByte(14 + 6, Ipv6Packet.NEXT_HEADER_FRAGMENT);
        send(fragment);
        assertThat(counters.get(Counter.DROP_NAT_BAD_PACKET)).isEqualTo(1);
        assertThat(counters.get(Counter.DROP_NAT_UNSUPPORTED)).isEqualTo(1);
        assertThat(onLoop(() -> nat.udp().flowCount())).isZero();
    }

    // ---- Frames from the VM ----

    private static ByteBuf udp(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow, int vmPort,
            int destinationPort, byte[] data) {
        int length = UdpPacket.HEADER_LENGTH + data.length;
        ByteBuf frame = fromVm(sourceHigh, sourceLow, destinationHigh, destinationLow, Ipv6Packet.NEXT_HEADER_UDP,
                length);
        UdpPacket.writeHeader(frame, 54, vmPort, destinationPort, length);
        frame.setBytes(54 + UdpPacket.HEADER_LENGTH, data);
        UdpPacket.fillChecksumOverIpv6(frame, 54, length, sourceHigh, sourceLow, destinationHigh, destinationLow);
        return frame;
    }

    private static ByteBuf tcp(int vmPort, int destinationPort, int sequence, int ack, int flags, byte[] data) {
        int length = TcpPacket.MIN_HEADER_LENGTH + data.length;
        ByteBuf frame = fromVm(PREFIX, VM_LOW, 0, LOOPBACK_LOW, Ipv6Packet.NEXT_HEADER_TCP, length);
        TcpPacket.writeHeader(frame, 54, vmPort, destinationPort, sequence, ack, TcpPacket.MIN_HEADER_LENGTH, flags,
                65535);
        frame.setBytes(54 + TcpPacket.MIN_HEADER_LENGTH, data);
        TcpPacket.fillChecksumOverIpv6(frame, 54, length, PREFIX, VM_LOW, 0, LOOPBACK_LOW);
        return frame;
    }

    private static ByteBuf fromVm(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow,
            int nextHeader, int payloadLength) {
        ByteBuf frame = ByteBufAllocator.DEFAULT.directBuffer(54 + payloadLength);
        frame.writerIndex(54 + payloadLength);
        EthernetFrame.writeHeader(frame, 0, NetworkConfig.DEFAULT_GATEWAY_MAC, VM_MAC, EthernetFrame.TYPE_IPV6);
        Ipv6Packet.writeHeader(frame, 14, payloadLength, nextHeader, 64, sourceHigh, sourceLow, destinationHigh,
                destinationLow);
        return frame;
    }

    /** Hands the frame to the NAT on its loop as the gateway would, releases it, and returns the NAT's answer. */
    private int send(ByteBuf frame) throws Exception {
        try {
            return onLoop(() -> {
                EthernetFrame ethernet = new EthernetFrame();
                assertThat(ethernet.wrap(frame)).isEqualTo(ParseResult.OK);
                Ipv6Packet ip = new Ipv6Packet();
                assertThat(ip.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength()))
                        .isEqualTo(ParseResult.OK);
                return nat.onPacket6(ethernet, ip);
            });
        } finally {
            frame.release();
        }
    }

    // ---- Frames to the VM ----

    /** One frame the NAT sent: to the VM's MAC and address, IPv6, from the gateway's MAC. */
    private static final class Seen {
        final ByteBuf frame;
        final Ipv6Packet ip = new Ipv6Packet();
        final int nextHeader;

        Seen(ByteBuf frame) {
            this.frame = frame;
            EthernetFrame ethernet = new EthernetFrame();
            assertThat(ethernet.wrap(frame)).isEqualTo(ParseResult.OK);
            assertThat(ethernet.destination()).isEqualTo(VM_MAC);
            assertThat(ethernet.source()).isEqualTo(NetworkConfig.DEFAULT_GATEWAY_MAC);
            assertThat(ethernet.etherType()).isEqualTo(EthernetFrame.TYPE_IPV6);
            assertThat(ip.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(ip.destinationHigh()).isEqualTo(PREFIX);
            assertThat(ip.destinationLow()).isEqualTo(VM_LOW);
            assertThat(Ipv6Packet.HEADER_LENGTH + ip.payloadLength()).as("within the LAN MTU")
                    .isLessThanOrEqualTo(NetworkConfig.DEFAULT_MTU);
            nextHeader = ip.nextHeader();
        }

        TcpPacket tcp() {
            assertThat(nextHeader).isEqualTo(Ipv6Packet.NEXT_HEADER_TCP);
            TcpPacket view = new TcpPacket();
            assertThat(view.wrap(frame, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(view.checksumValidOverIpv6(ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(),
                    ip.destinationLow())).as("TCP checksum over the IPv6 pseudo-header: "
                            + ByteBufUtil.hexDump(frame)).isTrue();
            return view;
        }

        void release() {
            frame.release();
        }
    }

    private Seen next() throws InterruptedException {
        ByteBuf frame = emitted.poll(5, TimeUnit.SECONDS);
        assertThat(frame).as("a frame to the VM").isNotNull();
        return new Seen(frame);
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }
}
