package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Fixtures;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * IPv6's own rules on top of the shared ones (Ipv4ReassemblyTest covers overlaps, bounds and time): the key has no
 * protocol, the first piece names it and must hold its whole header, an atomic fragment is a packet at once.
 */
class Ipv6ReassemblyTest {

    private static final long VM_MAC = MacAddress.parse("52:55:0a:00:02:0f");
    private static final long GATEWAY_MAC = MacAddress.parse("52:54:00:12:34:56");
    private static final String VM = "fd00:10:0:2:5055:aff:fe00:20f";
    private static final String HOST = "2001:db8:1::10";
    private static final int UDP = Ipv6Packet.NEXT_HEADER_UDP;

    private final Counters counters = new Counters();
    private final UnpooledByteBufAllocator allocator = new UnpooledByteBufAllocator(true);
    private final Ipv6Reassembly reassembly = new Ipv6Reassembly(allocator, counters);
    private final EthernetFrame ethernet = new EthernetFrame();
    private final Ipv6Packet ip = new Ipv6Packet();
    private final List<ByteBuf> wholes = new ArrayList<>();

    @AfterEach
    void nothingIsHeld() {
        reassembly.clear();
        assertThat(reassembly.inProgress()).isZero();
        for (ByteBuf whole : wholes) {
            assertThat(whole.refCnt()).isEqualTo(1);
            whole.release();
        }
        assertThat(allocator.metric().usedDirectMemory()).as("every buffer back in the pool").isZero();
    }

    @Test
    void piecesInAnyOrderMakeThePacketWithTheFirstPiecesNextHeader() {
        byte[] payload = pattern(3000);
        assertThat(offer(0x1234, 2464, false, UDP, slice(payload, 2464, 3000))).isNull();
        // Later pieces repeat the first one's next header (RFC 8200), but only the first one's counts.
        assertThat(offer(0x1234, 1232, true, 99, slice(payload, 1232, 2464))).isNull();
        ByteBuf whole = offer(0x1234, 0, true, UDP, slice(payload, 0, 1232));

        assertThat(whole).isNotNull();
        assertThat(ethernet.wrap(whole)).isEqualTo(ParseResult.OK);
        assertThat(ethernet.source()).isEqualTo(VM_MAC);
        assertThat(ethernet.destination()).isEqualTo(GATEWAY_MAC);
        assertThat(ethernet.etherType()).isEqualTo(EthernetFrame.TYPE_IPV6);
        assertThat(ip.wrap(whole, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
        assertThat(ip.nextHeader()).as("no fragment header left").isEqualTo(UDP);
        assertThat(ip.payloadLength()).isEqualTo(3000);
        assertThat(ip.hopLimit()).isEqualTo(64);
        assertThat(Ipv6Address.format(ip.sourceHigh(), ip.sourceLow())).isEqualTo(VM);
        assertThat(Ipv6Address.format(ip.destinationHigh(), ip.destinationLow())).isEqualTo(HOST);
        assertThat(ByteBufUtil.getBytes(whole, ip.payloadOffset(), ip.payloadLength())).isEqualTo(payload);
        assertThat(whole.readableBytes()).as("nothing after the packet").isEqualTo(14 + 40 + 3000);
        assertThat(counters.get(Counter.IP_FRAGMENTS_IN)).isEqualTo(3);
        assertThat(counters.get(Counter.IP_DATAGRAMS_REASSEMBLED)).isEqualTo(1);
    }

    @Test
    void anAtomicFragmentIsThePacketAtOnce() {
        byte[] payload = pattern(100);
        ByteBuf whole = offer(7, 0, false, UDP, payload);

        assertThat(whole).isNotNull();
        assertThat(ip.wrap(whole, 14, whole.readableBytes() - 14)).isEqualTo(ParseResult.OK);
        assertThat(ip.nextHeader()).isEqualTo(UDP);
        assertThat(ByteBufUtil.getBytes(whole, ip.payloadOffset(), ip.payloadLength())).isEqualTo(payload);
    }

    @Test
    void packetsOfOnePairStayApartByIdentificationAndPairsByAddress() {
        byte[] a = pattern(1600);
        assertThat(offer(1, 0, true, UDP, slice(a, 0, 800))).isNull();
        assertThat(offer(2, 0, true, UDP, new byte[800])).isNull();
        assertThat(offer(1, 800, false, UDP, slice(a, 800, 1600), "2001:db8:1::11")).as("another destination")
                .isNull();
        ByteBuf wholeA = offer(1, 800, false, UDP, slice(a, 800, 1600));

        assertThat(ByteBufUtil.getBytes(wholeA, 14 + 40, 1600)).isEqualTo(a);
        assertThat(reassembly.inProgress()).isEqualTo(2);
    }

    @Test
    void aFirstPieceWithoutTheWholeUpperLayerHeaderSpoilsThePacket() {
        // RFC 7112: a TCP header cut after 16 bytes would hide its flags and options from every filter.
        assertThat(offer(3, 0, true, Ipv6Packet.NEXT_HEADER_TCP, new byte[16])).isNull();
        assertThat(offer(3, 16, false, Ipv6Packet.NEXT_HEADER_TCP, new byte[24])).isNull();
        // A chain the gateway does not walk (destination options) behind the fragment header.
        assertThat(offer(4, 0, false, Ipv6Packet.NEXT_HEADER_DESTINATION_OPTIONS, new byte[16])).isNull();

        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_INVALID)).isEqualTo(2);
        assertThat(counters.get(Counter.IP_DATAGRAMS_REASSEMBLED)).as("counted whole, then refused").isEqualTo(2);
        assertThat(reassembly.inProgress()).isZero();
    }

    @Test
    void anOverlapSpoilsThePacketAsRfc5722Says() {
        assertThat(offer(5, 0, true, UDP, new byte[1232])).isNull();
        assertThat(offer(5, 1224, false, UDP, new byte[100])).isNull();

        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_INVALID)).isEqualTo(1);
        assertThat(reassembly.inProgress()).isZero();
    }

    @Test
    void piecesStopComingAndThePacketExpires() {
        assertThat(offer(6, 0, true, UDP, new byte[1232])).isNull();
        reassembly.expire(FragmentReassembly.TIMEOUT_NANOS + 1);

        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_TIMEOUT)).isEqualTo(1);
        assertThat(reassembly.inProgress()).isZero();
    }

    private ByteBuf offer(int identification, int offset, boolean more, int nextHeader, byte[] data) {
        return offer(identification, offset, more, nextHeader, data, HOST);
    }

    private ByteBuf offer(int identification, int offset, boolean more, int nextHeader, byte[] data,
            String destination) {
        byte[] fragment = new byte[Ipv6Packet.FRAGMENT_HEADER_LENGTH + data.length];
        ByteBuf header = Unpooled.wrappedBuffer(fragment);
        Ipv6Packet.writeFragmentHeader(header, 0, nextHeader, offset, more, identification);
        System.arraycopy(data, 0, fragment, Ipv6Packet.FRAGMENT_HEADER_LENGTH, data.length);
        ByteBuf frame = Unpooled.wrappedBuffer(Ipv6Fixtures.frame(GATEWAY_MAC, VM_MAC, VM, destination, 64,
                Ipv6Packet.NEXT_HEADER_FRAGMENT, fragment));
        assertThat(ethernet.wrap(frame)).isEqualTo(ParseResult.OK);
        assertThat(ip.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
        assertThat(ip.startsWithFragmentHeader()).isTrue();
        ByteBuf whole = reassembly.offer(ethernet, ip, 0);
        frame.release();
        if (whole != null) {
            wholes.add(whole);
        }
        return whole;
    }

    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 7 + 3);
        }
        return bytes;
    }

    private static byte[] slice(byte[] bytes, int from, int to) {
        return Arrays.copyOfRange(bytes, from, to);
    }
}
