package dev.riscvrelay.relay.nat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The NAT against a real Linux host in a namespace (see {@link InternetNamespaces}): hand-built VM frames go in,
 * real datagrams and pings go out through host sockets, and the frames that come back are checked byte by byte.
 */
class NatIT {

    private static final long VM_A_MAC = 0x0252_5400_000AL;
    private static final long VM_B_MAC = 0x0252_5400_000BL;
    private static final int VM_A = Ipv4Address.parse("10.0.2.15");
    private static final int VM_B = Ipv4Address.parse("10.0.2.16");
    private static final int HOST = Ipv4Address.parse(InternetNamespaces.INTERNET_HOST);
    private static final int GATEWAY = NetworkConfig.DEFAULT_GATEWAY_ADDRESS;

    private static InternetNamespaces world;
    private static EventLoopGroup group;
    private static EventLoop loop;

    private final BlockingQueue<ByteBuf> emitted = new LinkedBlockingQueue<>();
    private final Counters counters = new Counters();
    private Nat nat;

    @BeforeAll
    static void buildWorld() throws Exception {
        world = new InternetNamespaces();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        loop = group.next();
        loop.submit(() -> NetworkNamespaces.enterOnThisThread(world.relay)).get(5, TimeUnit.SECONDS);
    }

    @AfterAll
    static void tearDownWorld() throws Exception {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        if (world != null) {
            world.close();
        }
    }

    @AfterEach
    void closeNat() throws Exception {
        if (nat != null) {
            onLoop(() -> {
                nat.close();
                return null;
            });
        }
        ByteBuf left;
        while ((left = emitted.poll()) != null) {
            left.release();
        }
    }

    private void startNat(NetworkConfig network) throws Exception {
        // Built on the loop, inside the relay namespace: the ping-socket probe and host addresses are read there.
        // The test internet lives in documentation ranges, which the default policy denies: allow them as an
        // operator would with --allow.
        EgressRules testRanges = new EgressRules(
                List.of(Cidr.parse("198.51.100.0/24"), Cidr.parse("203.0.113.0/24")), List.of());
        nat = onLoop(() -> new Nat(network, NatConfig.defaults(), EgressPolicy.forThisHost(testRanges), loop, emitted::add,
                counters, NanoClock.SYSTEM, PooledByteBufAllocator.DEFAULT));
    }

    private void send(ByteBuf frame) throws Exception {
        onLoop(() -> {
            TestFrames.deliver(nat, frame);
            return null;
        });
    }

    private ByteBuf nextFrame() throws InterruptedException {
        ByteBuf frame = emitted.poll(5, TimeUnit.SECONDS);
        assertThat(frame).as("a frame back from the NAT within 5 s").isNotNull();
        return frame;
    }

    private static <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    private void awaitCounter(Counter counter, long value) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (counters.get(counter) < value && System.nanoTime() < deadline) {
            Thread.sleep(10); // polling a counter the event loop bumps; bounded by the deadline
        }
        assertThat(counters.get(counter)).as(counter.name()).isEqualTo(value);
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static void assertUdpReply(ByteBuf frame, long vmMac, int vm, int vmPort, byte[] data) {
        TestFrames.Parsed reply = new TestFrames.Parsed(frame);
        assertThat(reply.ethernet.destination()).isEqualTo(vmMac);
        assertThat(reply.ethernet.source()).isEqualTo(NetworkConfig.DEFAULT_GATEWAY_MAC);
        assertThat(reply.ethernet.etherType()).isEqualTo(EthernetFrame.TYPE_IPV4);
        assertThat(reply.ip.protocol()).isEqualTo(Ipv4Packet.PROTOCOL_UDP);
        assertThat(reply.ip.source()).isEqualTo(HOST);
        assertThat(reply.ip.destination()).isEqualTo(vm);
        assertThat(reply.ip.isFragment()).isFalse();
        UdpPacket udp = reply.udp();
        assertThat(udp.sourcePort()).isEqualTo(InternetNamespaces.ECHO_PORT);
        assertThat(udp.destinationPort()).isEqualTo(vmPort);
        assertThat(udp.hasChecksum()).isTrue();
        assertThat(udp.checksumValid(reply.ip.source(), reply.ip.destination())).isTrue();
        assertThat(ByteBufUtil.getBytes(frame, udp.dataOffset(), udp.dataLength())).isEqualTo(data);
    }

    @Test
    void udpEchoComesBackAsAFrameFromTheDestination() throws Exception {
        startNat(NetworkConfig.defaults());
        byte[] data = text("hello from the VM");
        send(TestFrames.udp(VM_A_MAC, VM_A, 40000, HOST, InternetNamespaces.ECHO_PORT, data));

        ByteBuf reply = nextFrame();
        try {
            assertUdpReply(reply, VM_A_MAC, VM_A, 40000, data);
            assertThat(reply.readerIndex()).as("headroom for a transport prefix")
                    .isEqualTo(NetworkConfig.DEFAULT_FRAME_HEADROOM);
        } finally {
            reply.release();
        }
        assertThat(counters.get(Counter.NAT_UDP_FLOWS_OPENED)).isEqualTo(1);
        assertThat(counters.get(Counter.NAT_UDP_DATAGRAMS_IN)).isEqualTo(1);
    }

    @Test
    void twoVmsOnTheSameSourcePortGetTheirOwnReplies() throws Exception {
        startNat(NetworkConfig.defaults());
        byte[] fromA = text("A asks");
        byte[] fromB = text("B asks, a bit longer");
        for (int round = 0; round < 3; round++) {
            send(TestFrames.udp(VM_A_MAC, VM_A, 5353, HOST, InternetNamespaces.ECHO_PORT, fromA));
            send(TestFrames.udp(VM_B_MAC, VM_B, 5353, HOST, InternetNamespaces.ECHO_PORT, fromB));
        }
        int seenA = 0;
        int seenB = 0;
        for (int i = 0; i < 6; i++) {
            ByteBuf reply = nextFrame();
            try {
                if (new TestFrames.Parsed(reply).ethernet.destination() == VM_A_MAC) {
                    assertUdpReply(reply, VM_A_MAC, VM_A, 5353, fromA);
                    seenA++;
                } else {
                    assertUdpReply(reply, VM_B_MAC, VM_B, 5353, fromB);
                    seenB++;
                }
            } finally {
                reply.release();
            }
        }
        assertThat(seenA).isEqualTo(3);
        assertThat(seenB).isEqualTo(3);
        assertThat(onLoop(() -> nat.udp().flowCount())).isEqualTo(2);
    }

    @Test
    void aClosedPortYieldsIcmpPortUnreachableQuotingTheVmsDatagram() throws Exception {
        startNat(NetworkConfig.defaults());
        ByteBuf request = TestFrames.udp(VM_A_MAC, VM_A, 41000, HOST, InternetNamespaces.CLOSED_PORT,
                text("anyone there?"));
        byte[] quoted = ByteBufUtil.getBytes(request, 14, 20 + 8);
        send(request);

        ByteBuf error = nextFrame();
        try {
            TestFrames.Parsed parsed = new TestFrames.Parsed(error);
            assertThat(parsed.ethernet.destination()).isEqualTo(VM_A_MAC);
            assertThat(parsed.ip.source()).as("reported by the destination host itself").isEqualTo(HOST);
            assertThat(parsed.ip.destination()).isEqualTo(VM_A);
            assertThat(parsed.ip.protocol()).isEqualTo(Ipv4Packet.PROTOCOL_ICMP);
            IcmpPacket icmp = parsed.icmp(); // checksum verified by wrap
            assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_DESTINATION_UNREACHABLE);
            assertThat(icmp.code()).isEqualTo(3);
            assertThat(ByteBufUtil.getBytes(error, icmp.dataOffset(), icmp.dataLength())).isEqualTo(quoted);
        } finally {
            error.release();
        }
        assertThat(counters.get(Counter.NAT_UDP_PORT_UNREACHABLE)).isEqualTo(1);
    }

    @Test
    void aReplyLargerThanTheLanMtuReachesTheVmInIpv4FragmentsThatReassembleToIt() throws Exception {
        startNat(NetworkConfig.defaults().withMtu(576));
        byte[] large = new byte[3000];
        for (int i = 0; i < large.length; i++) {
            large[i] = (byte) (i * 31 + 7);
        }
        send(TestFrames.udp(VM_A_MAC, VM_A, 42000, HOST, InternetNamespaces.ECHO_PORT, large));
        // 3,008 bytes of UDP in pieces of 552 (576 less the IP header, a multiple of 8): five full and one of 248.
        ByteBuf reassembled = reassembleFragments(6, Ipv4Packet.PROTOCOL_UDP, 576);
        assertThat(emitted.poll(200, TimeUnit.MILLISECONDS)).as("no seventh fragment").isNull();
        try {
            UdpPacket udp = new UdpPacket();
            assertThat(udp.wrap(reassembled, 0, reassembled.readableBytes())).isEqualTo(
                    dev.riscvrelay.relay.wire.ParseResult.OK);
            assertThat(udp.sourcePort()).isEqualTo(InternetNamespaces.ECHO_PORT);
            assertThat(udp.destinationPort()).isEqualTo(42000);
            assertThat(udp.checksumValid(HOST, VM_A)).as("the UDP checksum covers the whole datagram").isTrue();
            assertThat(ByteBufUtil.getBytes(reassembled, udp.dataOffset(), reassembled.readableBytes() - 8))
                    .isEqualTo(large);
        } finally {
            reassembled.release();
        }
        assertThat(counters.get(Counter.NAT_UDP_DATAGRAMS_FRAGMENTED)).isEqualTo(1);
        assertThat(counters.get(Counter.NAT_UDP_FRAGMENTS_IN)).isEqualTo(6);
        assertThat(counters.get(Counter.DROP_NAT_REPLY_TOO_LARGE)).isZero();

        // A reply that fits still goes whole, in one frame of exactly the MTU.
        byte[] fits = new byte[576 - 28];
        send(TestFrames.udp(VM_A_MAC, VM_A, 42000, HOST, InternetNamespaces.ECHO_PORT, fits));
        ByteBuf reply = nextFrame();
        try {
            assertUdpReply(reply, VM_A_MAC, VM_A, 42000, fits);
            assertThat(new TestFrames.Parsed(reply).ip.totalLength()).isEqualTo(576);
        } finally {
            reply.release();
        }
        assertThat(counters.get(Counter.NAT_UDP_DATAGRAMS_FRAGMENTED)).isEqualTo(1);
    }

    @Test
    void pingThroughIcmpNatReturnsTheVmsIdentifierSequenceAndPayload() throws Exception {
        startNat(NetworkConfig.defaults());
        assertThat(onLoop(() -> nat.icmp().enabled())).as("ping sockets allowed in the relay namespace").isTrue();
        byte[] payload = new byte[56];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 7 + 1);
        }
        for (int sequence = 1; sequence <= 3; sequence++) {
            send(TestFrames.echoRequest(VM_A_MAC, VM_A, HOST, 0xBEEF, sequence, payload));
            ByteBuf reply = nextFrame();
            try {
                TestFrames.Parsed parsed = new TestFrames.Parsed(reply);
                assertThat(parsed.ethernet.destination()).isEqualTo(VM_A_MAC);
                assertThat(parsed.ip.source()).isEqualTo(HOST);
                assertThat(parsed.ip.destination()).isEqualTo(VM_A);
                IcmpPacket icmp = parsed.icmp();
                assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_ECHO_REPLY);
                assertThat(icmp.code()).isZero();
                assertThat(icmp.identifier()).isEqualTo(0xBEEF);
                assertThat(icmp.sequenceNumber()).isEqualTo(sequence);
                assertThat(ByteBufUtil.getBytes(reply, icmp.dataOffset(), icmp.dataLength())).isEqualTo(payload);
                // What the host itself would send: the request with type 0 and the checksum adjusted.
                ByteBuf expected = TestFrames.echoRequest(VM_A_MAC, VM_A, HOST, 0xBEEF, sequence, payload);
                try {
                    expected.setByte(34, IcmpPacket.TYPE_ECHO_REPLY);
                    expected.setShort(36, 0);
                    IcmpPacket.fillChecksum(expected, 34, 8 + payload.length);
                    assertThat(ByteBufUtil.getBytes(reply, icmp.offset(), icmp.length()))
                            .isEqualTo(ByteBufUtil.getBytes(expected, 34, 8 + payload.length));
                } finally {
                    expected.release();
                }
            } finally {
                reply.release();
            }
        }
        assertThat(onLoop(() -> nat.icmp().flowCount())).isEqualTo(1);
        assertThat(counters.get(Counter.NAT_ICMP_ECHO_IN)).isEqualTo(3);
    }

    @Test
    void anEchoReplyLargerThanTheLanMtuReachesTheVmInFragmentsThatReassembleToIt() throws Exception {
        startNat(NetworkConfig.defaults().withMtu(576));
        assertThat(onLoop(() -> nat.icmp().enabled())).as("ping sockets allowed in the relay namespace").isTrue();
        byte[] payload = new byte[3000];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 17 + 3);
        }
        send(TestFrames.echoRequest(VM_A_MAC, VM_A, HOST, 0xBEEF, 9, payload));
        // The host's reply, 3,008 bytes of ICMP, in pieces of 552: five full and one of 248.
        ByteBuf reassembled = reassembleFragments(6, Ipv4Packet.PROTOCOL_ICMP, 576);
        assertThat(emitted.poll(200, TimeUnit.MILLISECONDS)).as("no seventh fragment").isNull();
        try {
            IcmpPacket icmp = new IcmpPacket();
            assertThat(icmp.wrap(reassembled, 0, reassembled.readableBytes()))
                    .as("the checksum covers the whole reply").isEqualTo(dev.riscvrelay.relay.wire.ParseResult.OK);
            assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_ECHO_REPLY);
            assertThat(icmp.identifier()).as("the VM's identifier").isEqualTo(0xBEEF);
            assertThat(icmp.sequenceNumber()).isEqualTo(9);
            assertThat(ByteBufUtil.getBytes(reassembled, icmp.dataOffset(), icmp.dataLength())).isEqualTo(payload);
        } finally {
            reassembled.release();
        }
        assertThat(counters.get(Counter.NAT_ICMP_ECHO_IN)).isEqualTo(1);
        assertThat(counters.get(Counter.NAT_ICMP_ECHO_FRAGMENTED)).isEqualTo(1);
        assertThat(counters.get(Counter.NAT_ICMP_FRAGMENTS_IN)).isEqualTo(6);
        assertThat(counters.get(Counter.DROP_NAT_REPLY_TOO_LARGE)).isZero();
    }

    /**
     * Takes the next {@code pieces} frames as the IPv4 fragments, in order, of one datagram from the host to VM A, each
     * within {@code mtu}, and returns their payloads joined (the caller releases it).
     */
    private ByteBuf reassembleFragments(int pieces, int protocol, int mtu) throws Exception {
        ByteBuf reassembled = io.netty.buffer.Unpooled.buffer();
        int identification = -1;
        for (int piece = 0; piece < pieces; piece++) {
            ByteBuf fragment = nextFrame();
            try {
                TestFrames.Parsed parsed = new TestFrames.Parsed(fragment); // header checksum verified by wrap
                assertThat(parsed.ethernet.destination()).isEqualTo(VM_A_MAC);
                assertThat(parsed.ip.source()).isEqualTo(HOST);
                assertThat(parsed.ip.destination()).isEqualTo(VM_A);
                assertThat(parsed.ip.protocol()).isEqualTo(protocol);
                assertThat(parsed.ip.totalLength()).as("fragment %d within the LAN MTU", piece)
                        .isLessThanOrEqualTo(mtu);
                assertThat(parsed.ip.fragmentOffset()).as("fragment %d in order", piece)
                        .isEqualTo(reassembled.writerIndex());
                assertThat(parsed.ip.moreFragments()).as("MF on all but the last").isEqualTo(piece < pieces - 1);
                if (identification < 0) {
                    identification = parsed.ip.identification();
                }
                assertThat(parsed.ip.identification()).as("one datagram's fragments share its ID")
                        .isEqualTo(identification);
                reassembled.writeBytes(fragment, parsed.ip.payloadOffset(), parsed.ip.payloadLength());
            } finally {
                fragment.release();
            }
        }
        return reassembled;
    }

    @Test
    void privateAndLoopbackDestinationsAreDeniedWithAdminProhibited() throws Exception {
        startNat(NetworkConfig.defaults());
        for (String target : new String[] {"10.1.2.3", "127.0.0.1"}) {
            ByteBuf request = TestFrames.udp(VM_A_MAC, VM_A, 43000, Ipv4Address.parse(target), 53, text("q"));
            byte[] quoted = ByteBufUtil.getBytes(request, 14, 28);
            send(request);
            ByteBuf error = nextFrame();
            try {
                TestFrames.Parsed parsed = new TestFrames.Parsed(error);
                assertThat(parsed.ethernet.destination()).isEqualTo(VM_A_MAC);
                assertThat(parsed.ip.source()).as("reported by the gateway").isEqualTo(GATEWAY);
                assertThat(parsed.ip.destination()).isEqualTo(VM_A);
                IcmpPacket icmp = parsed.icmp();
                assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_DESTINATION_UNREACHABLE);
                assertThat(icmp.code()).as(target + ": communication administratively prohibited").isEqualTo(13);
                assertThat(ByteBufUtil.getBytes(error, icmp.dataOffset(), icmp.dataLength())).isEqualTo(quoted);
            } finally {
                error.release();
            }
        }
        send(TestFrames.echoRequest(VM_A_MAC, VM_A, Ipv4Address.parse("169.254.169.254"), 1, 1, new byte[8]));
        ByteBuf error = nextFrame();
        try {
            assertThat(new TestFrames.Parsed(error).icmp().code()).isEqualTo(13);
        } finally {
            error.release();
        }
        assertThat(counters.get(Counter.NAT_EGRESS_DENIED)).isEqualTo(3);
        assertThat(onLoop(() -> nat.udp().flowCount())).isZero();
    }
}
