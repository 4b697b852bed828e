package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.TcpPacket;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Puts back together the IPv6 packets VMs send in fragments (RFC 8200 section 4.5): on a LAN of 1280, UDP of more
 * than 1,232 bytes (WireGuard at its default MTU, QUIC, large DNS answers' queries) and large pings. The NAT then
 * sends them whole through host sockets, and the host's kernel fragments them again where its path needs it.
 *
 * <p>Only fragments whose fragment header follows the fixed header at once are taken (what hosts send without
 * hop-by-hop or routing headers); the gateway walks no other extension header either. A packet's pieces share
 * (source, destination, identification); the rules and bounds are {@link FragmentReassembly}'s, overlaps included
 * (RFC 5722). The first piece must hold the whole upper-layer header, TCP, UDP or ICMPv6 (RFC 7112); another
 * protocol, or a shorter first piece, spoils the packet. The whole packet leaves as a fresh frame: Ethernet header of
 * its last piece, a fixed header whose next header is the first piece's, the payload in order.
 *
 * <p>Owned by the gateway's event loop.
 */
final class Ipv6Reassembly extends FamilyReassembly {

    /** The most an IPv6 packet without a jumbogram option carries after its fixed header. */
    static final int MAX_PAYLOAD = 0xFFFF;
    /** IPv6 has no protocol in its reassembly key. */
    private static final int NO_PROTOCOL = 0;

    Ipv6Reassembly(ByteBufAllocator allocator, Counters counters) {
        super(new FragmentReassembly(allocator, counters, Ipv6Packet.HEADER_LENGTH, MAX_PAYLOAD));
    }

    /**
     * Takes the fragment {@code ip} of {@code ethernet} (not retained; {@link Ipv6Packet#startsWithFragmentHeader()}
     * holds). Returns the whole packet in a new frame once its last missing piece arrived (the caller releases it),
     * else null.
     */
    ByteBuf offer(EthernetFrame ethernet, Ipv6Packet ip, long now) {
        int dataAt = ip.payloadOffset() + Ipv6Packet.FRAGMENT_HEADER_LENGTH;
        int length = ip.payloadLength() - Ipv6Packet.FRAGMENT_HEADER_LENGTH;
        ByteBuf frame = pieces.offer(ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(), ip.destinationLow(),
                ip.fragmentIdentification(), NO_PROTOCOL, ip.fragmentNextHeader(), ip.buffer(), dataAt,
                ip.fragmentOffset(), length, ip.moreFragments(), now);
        if (frame == null) {
            return null;
        }
        int upper = pieces.completedUpper();
        int leastFirst = switch (upper) {
            case Ipv6Packet.NEXT_HEADER_TCP -> TcpPacket.MIN_HEADER_LENGTH;
            case Ipv6Packet.NEXT_HEADER_UDP -> UdpPacket.HEADER_LENGTH;
            case Ipv6Packet.NEXT_HEADER_ICMPV6 -> Icmpv6Packet.HEADER_LENGTH;
            default -> Integer.MAX_VALUE;
        };
        if (pieces.completedFirstLength() < leastFirst) {
            pieces.rejectCompleted();
            frame.release();
            return null;
        }
        frame.setBytes(0, ethernet.buffer(), ethernet.offset(), EthernetFrame.HEADER_LENGTH);
        int payload = frame.writerIndex() - EthernetFrame.HEADER_LENGTH - Ipv6Packet.HEADER_LENGTH;
        Ipv6Packet.writeHeader(frame, EthernetFrame.HEADER_LENGTH, payload, upper, ip.hopLimit(), ip.sourceHigh(),
                ip.sourceLow(), ip.destinationHigh(), ip.destinationLow());
        return frame;
    }
}
