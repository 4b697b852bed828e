package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.TestFrames;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.switching.Switch;
import dev.riscvrelay.relay.wire.ArpPacket;
import dev.riscvrelay.relay.wire.Checksums;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.HexFixtures;
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Fixtures;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GatewayTest {

    private static final long GATEWAY_MAC = MacAddress.parse("52:54:00:12:34:56");
    private static final long GUEST_MAC = MacAddress.parse("52:55:0a:00:02:0f");
    private static final long OTHER_GUEST_MAC = MacAddress.parse("52:55:0a:00:02:10");
    private static final int GATEWAY_IP = Ipv4Address.parse("10.0.2.2");
    private static final int GUEST_IP = Ipv4Address.parse("10.0.2.15");

    private final Counters counters = new Counters();
    private final RecordingSwitch lan = new RecordingSwitch();
    private final PooledByteBufAllocator allocator = new PooledByteBufAllocator(true);
    private final long[] now = {1_000_000_000L};
    private final Gateway gateway = new Gateway(NetworkConfig.defaults(), lan, allocator, counters, () -> now[0]);
    private final List<ByteBuf> inputs = new ArrayList<>();

    /** A real, minimal switch: it records what the gateway forwards and owns those references until the test ends. */
    private static final class RecordingSwitch implements Switch {
        final List<ByteBuf> forwarded = new ArrayList<>();
        final List<Port> ingresses = new ArrayList<>();

        @Override
        public void attach(Port port) {
        }

        @Override
        public void detach(Port port) {
        }

        @Override
        public void forward(Port ingress, ByteBuf frame) {
            ingresses.add(ingress);
            forwarded.add(frame);
        }
    }

    @AfterEach
    void everyBufferIsReleased() {
        gateway.close(); // lets go of fragments still waiting for the rest of their datagram
        for (ByteBuf input : inputs) {
            assertThat(input.refCnt()).as("the gateway released the frame it was sent").isZero();
        }
        for (ByteBuf reply : lan.forwarded) {
            assertThat(reply.refCnt()).as("exactly one reference handed to the switch").isEqualTo(1);
            reply.release();
        }
    }

    // ARP

    @Test
    void arpRequestForTheGatewayGetsTheSameReplyLinuxSends() {
        send(HexFixtures.bytes("arp-request-who-has-10.0.2.2"));

        ByteBuf reply = onlyReply();
        assertThat(ByteBufUtil.hexDump(reply))
                .isEqualTo(ByteBufUtil.hexDump(HexFixtures.bytes("arp-reply-10.0.2.2-is-at-gateway")));
        assertThat(lan.ingresses).containsExactly(gateway);
        assertThat(reply.isDirect()).as("replies are built in direct buffers").isTrue();
        assertThat(reply.readerIndex()).as("headroom for the transport's prefix")
                .isEqualTo(NetworkConfig.DEFAULT_FRAME_HEADROOM);
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.GATEWAY_ARP_REPLIES, 1L));
    }

    @Test
    void arpRequestForTheDnsAddressIsAnsweredWithTheGatewayMac() {
        send(HexFixtures.bytes("arp-request-who-has-10.0.2.3"));

        assertThat(ByteBufUtil.hexDump(onlyReply()))
                .isEqualTo(ByteBufUtil.hexDump(HexFixtures.bytes("arp-reply-10.0.2.3-is-at-gateway")));
        assertThat(counters.get(Counter.GATEWAY_ARP_REPLIES)).isEqualTo(1);
    }

    @Test
    void unicastArpRequestPaddedToTheEthernetMinimumIsAnswered() {
        // Linux re-confirms a neighbour with a unicast request; a real NIC pads it to 60 bytes.
        byte[] frame = Arrays.copyOf(HexFixtures.bytes("arp-request-who-has-10.0.2.2"), 60);
        writeMac(frame, 0, GATEWAY_MAC);
        send(frame);

        assertThat(ByteBufUtil.hexDump(onlyReply()))
                .isEqualTo(ByteBufUtil.hexDump(HexFixtures.bytes("arp-reply-10.0.2.2-is-at-gateway")));
    }

    @Test
    void arpRequestForAnotherGuestIsIgnoredQuietly() {
        byte[] frame = HexFixtures.bytes("arp-request-who-has-10.0.2.2");
        frame[14 + 27] = 16; // who has 10.0.2.16?
        send(frame);

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).isEmpty();
    }

    @Test
    void everyArpPacketTeachesTheGatewayWhereItsSenderIs() {
        ArpPacket asked = new ArpPacket();
        byte[] request = HexFixtures.bytes("arp-request-who-has-10.0.2.2");
        asked.wrap(Unpooled.wrappedBuffer(request), EthernetFrame.HEADER_LENGTH, ArpPacket.LENGTH);
        assertThat(gateway.neighbours().macOf(asked.senderIp())).isEqualTo(Neighbours.UNKNOWN);

        send(request);
        assertThat(gateway.neighbours().macOf(asked.senderIp())).isEqualTo(asked.senderMac());
        gateway.neighbours().forget(asked.senderIp());
        assertThat(gateway.neighbours().macOf(asked.senderIp())).isEqualTo(Neighbours.UNKNOWN);
    }

    @Test
    void theGatewayAsksWhoHasAnAddressAndLearnsTheAnswer() {
        int other = Ipv4Address.parse("10.0.2.16");
        gateway.neighbours().request(other);
        ByteBuf request = onlyReply();
        EthernetFrame ethernet = new EthernetFrame();
        assertThat(ethernet.wrap(request)).isEqualTo(ParseResult.OK);
        assertThat(ethernet.destination()).isEqualTo(MacAddress.BROADCAST);
        assertThat(ethernet.source()).isEqualTo(GATEWAY_MAC);
        ArpPacket arp = new ArpPacket();
        assertThat(arp.wrap(request, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
        assertThat(arp.operation()).isEqualTo(ArpPacket.OPERATION_REQUEST);
        assertThat(arp.senderMac()).isEqualTo(GATEWAY_MAC);
        assertThat(arp.senderIp()).isEqualTo(GATEWAY_IP);
        assertThat(arp.targetIp()).isEqualTo(other);
        assertThat(counters.get(Counter.GATEWAY_ARP_REQUESTS)).isEqualTo(1);

        send(arpReply(OTHER_GUEST_MAC, other));
        assertThat(gateway.neighbours().macOf(other)).isEqualTo(OTHER_GUEST_MAC);
    }

    @Test
    void arpClaimingTheGatewaysAddressesOrForeignOnesIsNotLearned() {
        send(arpReply(OTHER_GUEST_MAC, GATEWAY_IP));
        send(arpReply(OTHER_GUEST_MAC, Ipv4Address.parse("10.0.2.3")));
        send(arpReply(OTHER_GUEST_MAC, Ipv4Address.parse("192.168.1.5")));
        send(arpReply(MacAddress.BROADCAST, GUEST_IP));
        assertThat(gateway.neighbours().macOf(GATEWAY_IP)).isEqualTo(Neighbours.UNKNOWN);
        assertThat(gateway.neighbours().macOf(Ipv4Address.parse("10.0.2.3"))).isEqualTo(Neighbours.UNKNOWN);
        assertThat(gateway.neighbours().macOf(Ipv4Address.parse("192.168.1.5"))).isEqualTo(Neighbours.UNKNOWN);
        assertThat(gateway.neighbours().macOf(GUEST_IP)).isEqualTo(Neighbours.UNKNOWN);
    }

    /** An ARP reply from {@code mac} saying it holds {@code address}, unicast to the gateway. */
    private static byte[] arpReply(long mac, int address) {
        ByteBuf frame = Unpooled.buffer(EthernetFrame.HEADER_LENGTH + ArpPacket.LENGTH);
        frame.writerIndex(frame.capacity());
        int at = EthernetFrame.writeHeader(frame, 0, GATEWAY_MAC, mac, EthernetFrame.TYPE_ARP);
        ArpPacket.write(frame, at, ArpPacket.OPERATION_REPLY, mac, address, GATEWAY_MAC, GATEWAY_IP);
        byte[] bytes = ByteBufUtil.getBytes(frame);
        frame.release();
        return bytes;
    }

    @Test
    void arpWithAWrongHardwareTypeIsCountedMalformed() {
        byte[] frame = HexFixtures.bytes("arp-request-who-has-10.0.2.2");
        frame[14 + 1] = 6; // IEEE 802 instead of Ethernet
        send(frame);

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.DROP_MALFORMED, 1L));
    }

    @Test
    void truncatedArpIsCountedMalformed() {
        send(Arrays.copyOf(HexFixtures.bytes("arp-request-who-has-10.0.2.2"), 14 + 27));

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.DROP_MALFORMED, 1L));
    }

    @Test
    void vlanTaggedArpIsNotForTheUntaggedGateway() {
        send(HexFixtures.bytes("arp-request-vlan-5-derived"));

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).isEmpty();
    }

    // ICMP echo

    @ParameterizedTest
    @ValueSource(ints = {0, 56, 1000})
    void echoRequestGetsAByteExactReply(int payloadSize) {
        byte[] request = HexFixtures.bytes("icmp-echo-request-payload-" + payloadSize);
        send(request);

        ByteBuf reply = onlyReply();
        assertThat(reply.readableBytes()).isEqualTo(request.length);
        EthernetFrame ethernet = new EthernetFrame();
        assertThat(ethernet.wrap(reply)).isEqualTo(ParseResult.OK);
        assertThat(ethernet.destination()).isEqualTo(GUEST_MAC);
        assertThat(ethernet.source()).isEqualTo(GATEWAY_MAC);
        assertThat(ethernet.etherType()).isEqualTo(EthernetFrame.TYPE_IPV4);

        Ipv4Packet ip = new Ipv4Packet();
        assertThat(ip.wrap(reply, ethernet.payloadOffset(), ethernet.payloadLength()))
                .as("IPv4 header checksum verifies").isEqualTo(ParseResult.OK);
        assertThat(ip.source()).isEqualTo(GATEWAY_IP);
        assertThat(ip.destination()).isEqualTo(GUEST_IP);
        assertThat(ip.ttl()).isEqualTo(64);
        assertThat(ip.protocol()).isEqualTo(Ipv4Packet.PROTOCOL_ICMP);
        assertThat(ip.headerLength()).isEqualTo(20);
        assertThat(ip.isFragment()).isFalse();
        assertThat(ip.totalLength()).isEqualTo(20 + 8 + payloadSize);

        IcmpPacket icmp = new IcmpPacket();
        assertThat(icmp.wrap(reply, ip.payloadOffset(), ip.payloadLength()))
                .as("ICMP checksum verifies").isEqualTo(ParseResult.OK);
        assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_ECHO_REPLY);
        assertThat(icmp.code()).isZero();
        assertThat(icmp.identifier()).isEqualTo(0x1234);
        assertThat(icmp.dataLength()).isEqualTo(payloadSize);
        assertThat(ByteBufUtil.hexDump(reply, icmp.dataOffset(), icmp.dataLength()))
                .isEqualTo(ByteBufUtil.hexDump(request, 14 + 20 + 8, payloadSize));
        // The whole ICMP message equals the one the Linux kernel sent for the same request.
        byte[] linuxReply = HexFixtures.bytes("icmp-echo-reply-payload-" + payloadSize);
        assertThat(ByteBufUtil.hexDump(reply, icmp.offset(), icmp.length()))
                .isEqualTo(ByteBufUtil.hexDump(linuxReply, 14 + 20, 8 + payloadSize));
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.GATEWAY_ECHO_REPLIES, 1L));
    }

    @Test
    void echoRequestWithIpOptionsIsAnsweredWithoutOptions() {
        send(HexFixtures.bytes("icmp-echo-request-ip-options-record-route"));

        ByteBuf reply = onlyReply();
        Ipv4Packet ip = new Ipv4Packet();
        assertThat(ip.wrap(reply, reply.readerIndex() + 14, reply.readableBytes() - 14)).isEqualTo(ParseResult.OK);
        assertThat(ip.headerLength()).isEqualTo(20);
        assertThat(reply.readableBytes()).isEqualTo(14 + 20 + 8 + "options".length());
        IcmpPacket icmp = new IcmpPacket();
        assertThat(icmp.wrap(reply, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
        assertThat(icmp.sequenceNumber()).isEqualTo(4);
        assertThat(reply.toString(icmp.dataOffset(), icmp.dataLength(), java.nio.charset.StandardCharsets.US_ASCII))
                .isEqualTo("options");
    }

    @Test
    void echoRequestWithZeroIdentifierAndSequenceAndNoDataGetsAReplyThatVerifies() {
        // Found by GatewayFuzzTest: the all-zero reply's checksum came out 0x0000 instead of 0xFFFF.
        byte[] frame = HexFixtures.bytes("icmp-echo-request-payload-0");
        int icmpAt = 14 + 20;
        Arrays.fill(frame, icmpAt + 2, icmpAt + 8, (byte) 0);
        ByteBuf checksummed = Unpooled.wrappedBuffer(frame);
        checksummed.setShort(icmpAt + 2, Checksums.internetChecksum(checksummed, icmpAt, 8));
        send(frame);

        ByteBuf reply = onlyReply();
        IcmpPacket icmp = new IcmpPacket();
        assertThat(icmp.wrap(reply, reply.readerIndex() + icmpAt, 8)).isEqualTo(ParseResult.OK);
        assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_ECHO_REPLY);
        assertThat(icmp.checksum()).isEqualTo(0xFFFF);
    }

    @Test
    void consecutiveRepliesUseFreshIdentifications() {
        send(HexFixtures.bytes("icmp-echo-request-payload-0"));
        send(HexFixtures.bytes("icmp-echo-request-payload-0"));

        assertThat(lan.forwarded).hasSize(2);
        int first = lan.forwarded.get(0).getUnsignedShort(lan.forwarded.get(0).readerIndex() + 14 + 4);
        int second = lan.forwarded.get(1).getUnsignedShort(lan.forwarded.get(1).readerIndex() + 14 + 4);
        assertThat(second).isNotEqualTo(first);
    }

    @Test
    void badIpHeaderChecksumIsDroppedAndCounted() {
        byte[] frame = HexFixtures.bytes("icmp-echo-request-payload-56");
        frame[14 + 8] = 63; // TTL changed without fixing the header checksum
        send(frame);

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.DROP_BAD_CHECKSUM, 1L));
    }

    @Test
    void badIcmpChecksumIsDroppedAndCounted() {
        byte[] frame = HexFixtures.bytes("icmp-echo-request-payload-1000");
        frame[frame.length - 1] ^= 0x55;
        send(frame);

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.DROP_BAD_CHECKSUM, 1L));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 5, 13, 14 + 19, 14 + 20 + 7, 14 + 20 + 500})
    void truncatedFramesAreCountedMalformed(int keptBytes) {
        send(Arrays.copyOf(HexFixtures.bytes("icmp-echo-request-payload-1000"), keptBytes));

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.DROP_MALFORMED, 1L));
    }

    @Test
    void icmpShorterThanItsHeaderIsCountedMalformed() {
        // A valid IPv4 header whose total length leaves only 4 bytes of ICMP.
        ByteBuf frame = Unpooled.directBuffer(64);
        EthernetFrame.writeHeader(frame, 0, GATEWAY_MAC, GUEST_MAC, EthernetFrame.TYPE_IPV4);
        Ipv4Packet.writeHeader(frame, 14, 24, 1, false, 64, Ipv4Packet.PROTOCOL_ICMP, GUEST_IP, GATEWAY_IP);
        frame.setInt(34, 0x08000000);
        frame.writerIndex(38);
        inputs.add(frame);
        gateway.send(frame);

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.DROP_MALFORMED, 1L));
    }

    @Test
    void echoReplyToTheGatewayIsUnhandled() {
        byte[] reply = HexFixtures.bytes("icmp-echo-reply-payload-56"); // captured from the gateway: from a guest now
        writeMac(reply, 6, GUEST_MAC);
        send(reply, GATEWAY_MAC, GATEWAY_IP);

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.GATEWAY_UNHANDLED, 1L));
    }

    @Test
    void aFrameFromTheGatewaysOwnMacIsDroppedAsSpoofedAndNeverAnswered() {
        byte[] request = HexFixtures.bytes("icmp-echo-request-payload-56");
        writeMac(request, 6, GATEWAY_MAC);
        send(request);

        assertThat(lan.forwarded).as("no answer to itself").isEmpty();
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.DROP_SPOOFED_MAC, 1L));
    }

    // Everything else

    @Test
    void unicastForAnotherMacIsIgnoredAndCountedAsNotAddressed() {
        byte[] frame = HexFixtures.bytes("icmp-echo-request-payload-56");
        writeMac(frame, 0, OTHER_GUEST_MAC);
        send(frame);

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.GATEWAY_NOT_ADDRESSED, 1L));
    }

    @Test
    void aLinuxRouterSolicitationIsAnsweredWithAnAdvertisementToItsSender() {
        send(HexFixtures.bytes("ipv6-icmpv6-router-solicitation"));

        ByteBuf reply = onlyReply();
        EthernetFrame ethernet = new EthernetFrame();
        assertThat(ethernet.wrap(reply)).isEqualTo(ParseResult.OK);
        assertThat(ethernet.destination()).as("its source link-layer option").isEqualTo(GUEST_MAC);
        assertThat(ethernet.etherType()).isEqualTo(EthernetFrame.TYPE_IPV6);
        assertThat((int) reply.getUnsignedByte(ethernet.payloadOffset() + 40)).isEqualTo(134);
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.GATEWAY_ROUTER_ADVERTISEMENTS, 1L));
    }

    @Test
    void ipv6MulticastItDoesNotHandleIsIgnoredQuietly() {
        send(unsolicitedNeighborAdvertisement());

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).isEmpty();
    }

    /** The captured solicitation turned into an advertisement (type 136) to all routers, which only guests read. */
    private static byte[] unsolicitedNeighborAdvertisement() {
        byte[] frame = HexFixtures.bytes("ipv6-icmpv6-router-solicitation");
        int icmp = EthernetFrame.HEADER_LENGTH + 40;
        int checksum = (frame[icmp + 2] & 0xFF) << 8 | (frame[icmp + 3] & 0xFF);
        checksum = Checksums.update16(checksum, 0x8500, 0x8800);
        frame[icmp] = (byte) 0x88;
        frame[icmp + 2] = (byte) (checksum >>> 8);
        frame[icmp + 3] = (byte) checksum;
        return frame;
    }

    @Test
    void dnsQueryIsUnhandledUntilADnsHandlerIsAdded() {
        send(HexFixtures.bytes("udp-dns-query-example-com"));

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.GATEWAY_UNHANDLED, 1L));
    }

    @Test
    void packetForAnOutsideAddressIsUnhandledUntilNatExists() {
        byte[] frame = HexFixtures.bytes("icmp-echo-request-payload-56");
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        Ipv4Packet ip = new Ipv4Packet();
        assertThat(ip.wrap(buf, 14, frame.length - 14)).isEqualTo(ParseResult.OK);
        ip.setDestination(Ipv4Address.parse("198.51.100.1"));
        send(frame);
        buf.release();

        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.GATEWAY_UNHANDLED, 1L));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1,2,3", "3,1,2", "2,3,1"})
    void linuxsFragmentsOfADatagramAreReassembledInAnyOrderAndHandedOnWhole(String order) {
        List<ByteBuf> whole = new ArrayList<>();
        gateway.addIpHandler((ethernet, ip, output) -> {
            whole.add(Unpooled.wrappedBuffer(ByteBufUtil.getBytes(ip.buffer(), ip.offset(), ip.totalLength())));
            return true;
        });
        for (String piece : order.split(",")) {
            send(HexFixtures.bytes("ipv4-fragment-" + piece + "-of-3-udp"));
        }

        assertThat(whole).hasSize(1);
        ByteBuf packet = whole.getFirst();
        try {
            Ipv4Packet ip = new Ipv4Packet();
            assertThat(ip.wrap(packet, 0, packet.readableBytes())).isEqualTo(ParseResult.OK);
            assertThat(ip.isFragment()).isFalse();
            assertThat(ip.totalLength()).isEqualTo(20 + 8 + 3000);
            assertThat(ip.source()).isEqualTo(GUEST_IP);
            assertThat(ip.destination()).isEqualTo(GATEWAY_IP);
            UdpPacket udp = new UdpPacket();
            assertThat(udp.wrap(packet, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(udp.destinationPort()).isEqualTo(9);
            assertThat(udp.checksumValid(GUEST_IP, GATEWAY_IP))
                    .as("the sender's checksum over all 3,000 bytes: every byte in its place").isTrue();
        } finally {
            packet.release();
        }
        assertThat(lan.forwarded).isEmpty();
        assertThat(nonZeroCounters()).containsOnly(Map.entry(Counter.IP_FRAGMENTS_IN, 3L),
                Map.entry(Counter.IP_DATAGRAMS_REASSEMBLED, 1L));
    }

    @Test
    void aDatagramMissingAPieceNeverReachesAHandler() {
        List<Integer> handed = new ArrayList<>();
        gateway.addIpHandler((ethernet, ip, output) -> handed.add(ip.totalLength()));
        send(HexFixtures.bytes("ipv4-fragment-1-of-3-udp"));
        send(HexFixtures.bytes("ipv4-fragment-3-of-3-udp"));

        assertThat(handed).isEmpty();
        assertThat(nonZeroCounters()).containsOnly(Map.entry(Counter.IP_FRAGMENTS_IN, 2L));
        gateway.close(); // lets go of the pieces it holds (Ipv4ReassemblyTest covers the timeout)
    }

    @Test
    void fragmentsForTheOutsideReachTheNatAsOneDatagram() {
        List<String> outside = new ArrayList<>();
        gateway.addIpHandler(new RouteToOutside((ethernet, ip) -> outside.add(Ipv4Address.format(ip.destination())
                + " " + ip.totalLength() + (ip.isFragment() ? " fragment" : ""))));
        int host = Ipv4Address.parse("198.51.100.7");
        ByteBuf first = TestFrames.udp(GUEST_MAC, GUEST_IP, 44000, host, 7, new byte[64]);
        ByteBuf later = TestFrames.udp(GUEST_MAC, GUEST_IP, 44000, host, 7, new byte[64]);
        setFragmentField(first, 0x2000); // More Fragments, offset 0: the first of two
        setFragmentField(later, 9); // offset 72 bytes, the last
        send(ByteBufUtil.getBytes(first));
        send(ByteBufUtil.getBytes(later));
        first.release();
        later.release();

        assertThat(outside).as("packets the route to the outside (the NAT) was given")
                .containsExactly("198.51.100.7 " + (20 + 72 + 72));
        assertThat(lan.forwarded).isEmpty();
    }

    @Test
    void aWholeEchoRequestLargerThanTheMtuIsAnsweredWhole() {
        // A browser's 1,200-byte frame (IP 1,186 > the LAN's 1185) fit its own link, so the reply does too.
        ByteBuf request = TestFrames.echoRequest(GUEST_MAC, GUEST_IP, GATEWAY_IP, 0x78, 1, new byte[1186 - 28]);
        send(ByteBufUtil.getBytes(request));
        request.release();

        assertThat(lan.forwarded).hasSize(1);
        assertThat(lan.forwarded.getFirst().readableBytes()).isEqualTo(14 + 1186);
        assertThat(counters.get(Counter.GATEWAY_ECHO_REPLIES)).isEqualTo(1);
    }

    @Test
    void anEchoRequestLargerThanTheMtuIsAnsweredInFragmentsThatMakeTheReply() {
        byte[] data = new byte[3000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 13 + 5);
        }
        ByteBuf request = TestFrames.echoRequest(GUEST_MAC, GUEST_IP, GATEWAY_IP, 0x77, 3, data);
        // Cut as the VM's kernel would on the LAN of 1185: 1,160 bytes a piece. The reply comes the same way.
        Ipv4Packet.fragment(request, 34, 8 + data.length, 1185, 0x4321, 64, Ipv4Packet.PROTOCOL_ICMP, GUEST_IP,
                GATEWAY_IP, carried -> {
                    ByteBuf frame = Unpooled.buffer(34 + carried).writerIndex(34 + carried);
                    frame.setBytes(0, request, 0, 14);
                    return frame;
                }, frame -> {
                    send(ByteBufUtil.getBytes(frame));
                    frame.release();
                });
        request.release();

        assertThat(lan.forwarded).as("3,008 bytes of reply in pieces of 1,160").hasSize(3);
        ByteBuf reply = Unpooled.buffer(8 + data.length);
        Ipv4Packet ip = new Ipv4Packet();
        int identification = -1;
        for (ByteBuf frame : lan.forwarded) {
            assertThat(frame.readableBytes()).isLessThanOrEqualTo(14 + 1185);
            assertThat(frame.getLong(frame.readerIndex()) >>> 16).as("to the VM").isEqualTo(GUEST_MAC);
            assertThat(ip.wrap(frame, frame.readerIndex() + 14, frame.readableBytes() - 14))
                    .isEqualTo(ParseResult.OK);
            assertThat(ip.source()).isEqualTo(GATEWAY_IP);
            assertThat(ip.destination()).isEqualTo(GUEST_IP);
            assertThat(ip.fragmentOffset()).isEqualTo(reply.writerIndex());
            identification = identification < 0 ? ip.identification() : identification;
            assertThat(ip.identification()).isEqualTo(identification);
            reply.writeBytes(frame, ip.payloadOffset(), ip.payloadLength());
        }
        assertThat(ip.moreFragments()).as("the last piece").isFalse();
        IcmpPacket icmp = new IcmpPacket();
        assertThat(icmp.wrap(reply, 0, reply.readableBytes())).as("checksum over the whole reply")
                .isEqualTo(ParseResult.OK);
        assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_ECHO_REPLY);
        assertThat(icmp.identifier()).isEqualTo(0x77);
        assertThat(icmp.sequenceNumber()).isEqualTo(3);
        assertThat(ByteBufUtil.getBytes(reply, 8, data.length)).isEqualTo(data);
        reply.release();
        assertThat(counters.get(Counter.GATEWAY_ECHO_REPLIES)).isEqualTo(1);
    }

    private static final String GUEST_IPV6 = "fd00:10:0:2:5055:aff:fe00:20f";
    private static final String GATEWAY_IPV6 = "fd00:10:0:2::2";

    @Test
    void piecesThatStopComingAreDroppedOnTheGatewaysClock() {
        ByteBuf first = TestFrames.udp(GUEST_MAC, GUEST_IP, 44000, Ipv4Address.parse("198.51.100.7"), 7,
                new byte[64]);
        setFragmentField(first, 0x2000);
        send(ByteBufUtil.getBytes(first));
        first.release();
        gateway.everySecond(now[0] + FragmentReassembly.TIMEOUT_NANOS);
        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_TIMEOUT)).as("5 s: still waiting").isZero();

        gateway.everySecond(now[0] + FragmentReassembly.TIMEOUT_NANOS + 1);

        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_TIMEOUT)).isEqualTo(1);
    }

    @Test
    void ipv6UdpFragmentsForTheOutsideReachTheNatAsOnePacket() {
        List<String> outside = new ArrayList<>();
        gateway.routeIpv6ToOutside((ethernet, ip) -> {
            UdpPacket udp = new UdpPacket();
            ParseResult parsed = udp.wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength());
            boolean verifies = udp.checksumValidOverIpv6(ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(),
                    ip.destinationLow());
            outside.add(Ipv6Address.format(ip.destinationHigh(), ip.destinationLow()) + " " + ip.nextHeader() + " "
                    + ip.payloadLength() + " " + parsed + " " + verifies + " " + Arrays.equals(
                            ByteBufUtil.getBytes(ip.buffer(), ip.payloadOffset() + 8, ip.payloadLength() - 8),
                            pattern(3000)));
            return Ipv6Outside.HANDLED;
        });
        sendInIpv6Fragments(Ipv6Fixtures.udpFrame(GATEWAY_MAC, GUEST_MAC, GUEST_IPV6, "2001:db8:1::10", 44000, 7,
                pattern(3000)), 1280);

        assertThat(outside).as("packets the route to the outside (the NAT) was given")
                .containsExactly("2001:db8:1::10 17 3008 OK true true");
        assertThat(counters.get(Counter.IP_FRAGMENTS_IN)).isEqualTo(3);
        assertThat(lan.forwarded).isEmpty();
    }

    @Test
    void anIpv6EchoRequestInFragmentsIsAnsweredInFragmentsThatMakeTheReply() {
        byte[] data = pattern(3000);
        byte[] echo = new byte[8 + data.length];
        echo[0] = (byte) Icmpv6Packet.TYPE_ECHO_REQUEST;
        echo[4] = 0x42;
        echo[7] = 9;
        System.arraycopy(data, 0, echo, 8, data.length);
        sendInIpv6Fragments(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_IPV6, GATEWAY_IPV6, 64, 58, echo), 1280);

        int mtu = NetworkConfig.defaults().mtu();
        assertThat(lan.forwarded).as("3,008 bytes of reply in pieces that fit the LAN").hasSize(3);
        ByteBuf reply = Unpooled.buffer(echo.length);
        Ipv6Packet ip = new Ipv6Packet();
        for (ByteBuf frame : lan.forwarded) {
            assertThat(frame.readableBytes()).isLessThanOrEqualTo(14 + mtu);
            assertThat(frame.getLong(frame.readerIndex()) >>> 16).as("to the VM").isEqualTo(GUEST_MAC);
            assertThat(ip.wrap(frame, frame.readerIndex() + 14, frame.readableBytes() - 14)).isEqualTo(ParseResult.OK);
            assertThat(Ipv6Address.format(ip.sourceHigh(), ip.sourceLow())).isEqualTo(GATEWAY_IPV6);
            assertThat(Ipv6Address.format(ip.destinationHigh(), ip.destinationLow())).isEqualTo(GUEST_IPV6);
            assertThat(ip.startsWithFragmentHeader()).isTrue();
            assertThat(ip.fragmentNextHeader()).isEqualTo(Ipv6Packet.NEXT_HEADER_ICMPV6);
            assertThat(ip.fragmentOffset()).isEqualTo(reply.writerIndex());
            reply.writeBytes(frame, ip.payloadOffset() + 8, ip.payloadLength() - 8);
        }
        assertThat(ip.moreFragments()).as("the last piece").isFalse();
        byte[] message = ByteBufUtil.getBytes(reply);
        reply.release();
        assertThat(message[0] & 0xFF).isEqualTo(Icmpv6Packet.TYPE_ECHO_REPLY);
        int checksum = (message[2] & 0xFF) << 8 | (message[3] & 0xFF);
        message[2] = 0;
        message[3] = 0;
        assertThat(checksum).as("checksum over the whole reply")
                .isEqualTo(Ipv6Fixtures.icmpv6Checksum(GATEWAY_IPV6, GUEST_IPV6, message));
        assertThat(Arrays.copyOfRange(message, 4, message.length)).isEqualTo(Arrays.copyOfRange(echo, 4, echo.length));
        assertThat(counters.get(Counter.GATEWAY_ECHO_REPLIES)).isEqualTo(1);
    }

    @Test
    void neighbourDiscoveryInAFragmentIsDropped() {
        // RFC 6980: a solicitation to the gateway's address, as an atomic fragment, would otherwise be answered.
        byte[] solicitation = Ipv6Fixtures.concat(Ipv6Fixtures.hex("8700 0000 0000 0000"),
                Ipv6Fixtures.address(GATEWAY_IPV6), Ipv6Fixtures.hex("0101 52550a00020f"));
        byte[] whole = Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_IPV6, GATEWAY_IPV6, 255, 58, solicitation);
        sendInIpv6Fragments(whole, 1500);

        assertThat(lan.forwarded).isEmpty();
        assertThat(counters.get(Counter.DROP_NDP_INVALID)).isEqualTo(1);
        assertThat(counters.get(Counter.GATEWAY_NEIGHBOR_ADVERTISEMENTS)).isZero();
    }

    /** Sends the IPv6 packet of {@code whole} to the gateway in fragments of at most {@code mtu}, as a VM cuts it. */
    private void sendInIpv6Fragments(byte[] whole, int mtu) {
        ByteBuf packet = Unpooled.wrappedBuffer(whole);
        Ipv6Packet ip = new Ipv6Packet();
        assertThat(ip.wrap(packet, 14, whole.length - 14)).isEqualTo(ParseResult.OK);
        Ipv6Packet.fragment(packet, ip.payloadOffset(), ip.payloadLength(), mtu, 0x5eed, ip.nextHeader(), 64,
                ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(), ip.destinationLow(), carried -> {
                    ByteBuf frame = Unpooled.buffer(14 + 40 + carried).writerIndex(14 + 40 + carried);
                    frame.setBytes(0, packet, 0, 14);
                    return frame;
                }, frame -> {
                    send(ByteBufUtil.getBytes(frame));
                    frame.release();
                });
        packet.release();
    }

    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 13 + 5);
        }
        return bytes;
    }

    /** Writes the IPv4 flags and fragment offset field (clearing DF) and fixes the header checksum. */
    private static void setFragmentField(ByteBuf frame, int flagsAndOffset) {
        frame.setShort(14 + 6, flagsAndOffset);
        frame.setShort(14 + 10, 0);
        frame.setShort(14 + 10, Checksums.internetChecksum(frame, 14, 20));
    }

    @Test
    void addedHandlersSeeWhatPingDoesNotClaimInOrder() {
        List<String> seen = new ArrayList<>();
        UdpPacket udp = new UdpPacket();
        gateway.addIpHandler((ethernet, ip, output) -> {
            if (ip.protocol() != Ipv4Packet.PROTOCOL_UDP
                    || udp.wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength()) != ParseResult.OK
                    || ip.destination() != output.config().dnsAddress() || udp.destinationPort() != 53) {
                return false;
            }
            seen.add("dns " + Ipv4Address.format(ip.source()) + ":" + udp.sourcePort());
            return true;
        });
        gateway.addIpHandler((ethernet, ip, output) -> {
            seen.add("last " + ip.protocol());
            return true;
        });

        send(HexFixtures.bytes("udp-dns-query-example-com"));
        send(HexFixtures.bytes("udp-checksum-zero"));
        send(HexFixtures.bytes("icmp-echo-request-payload-0"));

        assertThat(seen).containsExactly("dns 10.0.2.15:40000", "last 17");
        assertThat(lan.forwarded).hasSize(1);
        assertThat(nonZeroCounters()).containsExactly(Map.entry(Counter.GATEWAY_ECHO_REPLIES, 1L));
    }

    @Test
    void handlerChainIsBounded() {
        for (int i = 1; i < Gateway.MAX_IP_HANDLERS; i++) {
            gateway.addIpHandler((ethernet, ip, output) -> false);
        }
        assertThatThrownBy(() -> gateway.addIpHandler((ethernet, ip, output) -> false))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void portContract() {
        assertThat(gateway.maxFrameSize()).isEqualTo(1514);
        assertThat(gateway.name()).isEqualTo("gateway");
        assertThat(gateway.config()).isEqualTo(NetworkConfig.defaults());
    }

    @Test
    void framesItDropsOrIgnoresAllocateNothing() {
        // Heap buffers from Unpooled.wrappedBuffer are not leak-tracked, so the measurement sees only the gateway.
        String[] fixtures = {"arp-request-who-has-10.0.2.2", "icmp-echo-request-payload-56",
                "udp-dns-query-example-com", "ipv4-fragment-2-of-3-udp"};
        List<ByteBuf> frames = new ArrayList<>();
        byte[] otherArp = HexFixtures.bytes(fixtures[0]);
        otherArp[14 + 27] = 16; // ignored: who has 10.0.2.16?
        frames.add(Unpooled.wrappedBuffer(otherArp));
        byte[] badChecksum = HexFixtures.bytes(fixtures[1]);
        badChecksum[14 + 8] = 63; // dropped: bad IPv4 header checksum
        frames.add(Unpooled.wrappedBuffer(badChecksum));
        for (int i = 2; i < fixtures.length; i++) {
            frames.add(Unpooled.wrappedBuffer(HexFixtures.bytes(fixtures[i])));
        }
        frames.add(Unpooled.wrappedBuffer(unsolicitedNeighborAdvertisement()));
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long threadId = Thread.currentThread().threadId();
        int rounds = 20_000;
        for (int warmUp = 0; warmUp < 2; warmUp++) {
            long before = threads.getThreadAllocatedBytes(threadId);
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < frames.size(); i++) {
                    ByteBuf frame = frames.get(i);
                    gateway.send(frame.retain());
                }
            }
            long allocated = threads.getThreadAllocatedBytes(threadId) - before;
            if (warmUp == 1) {
                assertThat(allocated).as("bytes allocated for %d dropped or ignored frames", rounds * frames.size())
                        .isLessThan(4096);
            }
        }
        for (ByteBuf frame : frames) {
            assertThat(frame.refCnt()).isEqualTo(1);
            frame.release();
        }
        assertThat(lan.forwarded).isEmpty();
        assertThat(counters.get(Counter.DROP_BAD_CHECKSUM)).isEqualTo(2L * rounds);
    }

    // helpers

    private void send(byte[] frame) {
        // A pooled direct buffer with a nonzero reader index, like a frame cut out of a datagram.
        ByteBuf buf = allocator.directBuffer(frame.length + 3);
        buf.writeZero(3).writeBytes(frame).readerIndex(3);
        inputs.add(buf);
        gateway.send(buf);
    }

    /** Sends a captured frame re-addressed to {@code mac} and {@code ip}, with the IPv4 checksum fixed up. */
    private void send(byte[] frame, long mac, int address) {
        writeMac(frame, 0, mac);
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        Ipv4Packet ip = new Ipv4Packet();
        assertThat(ip.wrap(buf, 14, frame.length - 14)).isEqualTo(ParseResult.OK);
        ip.setDestination(address);
        buf.release();
        send(frame);
    }

    private ByteBuf onlyReply() {
        assertThat(lan.forwarded).hasSize(1);
        return lan.forwarded.getFirst();
    }

    private Map<Counter, Long> nonZeroCounters() {
        Map<Counter, Long> all = counters.snapshot();
        all.values().removeIf(value -> value == 0);
        return all;
    }

    private static void writeMac(byte[] frame, int index, long mac) {
        for (int i = 0; i < 6; i++) {
            frame[index + i] = (byte) (mac >>> (40 - 8 * i));
        }
    }
}
