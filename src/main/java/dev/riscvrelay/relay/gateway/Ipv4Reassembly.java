package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Puts back together the IPv4 datagrams VMs send in fragments (RFC 791 section 3.2), so that UDP and ICMP larger
 * than the LAN MTU reach the outside whole: on the default LAN of 1185 bytes, a QUIC client's first packet (at least
 * 1,200 bytes of UDP), a WireGuard tunnel's full-size packets, a large DNS query or ping. The kernel of the host
 * fragments them again where its own path needs it.
 *
 * <p>A datagram's pieces share (source, destination, protocol, identification); the rules and bounds are
 * {@link FragmentReassembly}'s. The whole datagram leaves as a fresh frame: Ethernet header of its last piece, an
 * IPv4 header without options (the NAT sends through host sockets, which write their own), the payload in order.
 *
 * <p>Owned by the gateway's event loop.
 */
final class Ipv4Reassembly extends FamilyReassembly {

    /** The largest IPv4 datagram: header and payload. */
    static final int MAX_DATAGRAM = 0xFFFF;
    private static final int HEADER = Ipv4Packet.MIN_HEADER_LENGTH;

    Ipv4Reassembly(ByteBufAllocator allocator, Counters counters) {
        super(new FragmentReassembly(allocator, counters, HEADER, MAX_DATAGRAM - HEADER));
    }

    /**
     * Takes the fragment {@code ip} of {@code ethernet} (not retained). Returns the whole datagram in a new frame
     * once its last missing piece arrived (the caller releases it), else null.
     */
    ByteBuf offer(EthernetFrame ethernet, Ipv4Packet ip, long now) {
        ByteBuf frame = pieces.offer(ip.source(), 0, ip.destination(), 0, ip.identification(), ip.protocol(),
                ip.protocol(), ip.buffer(), ip.payloadOffset(), ip.fragmentOffset(), ip.payloadLength(),
                ip.moreFragments(), now);
        if (frame == null) {
            return null;
        }
        // Complete: Ethernet from this piece (the VM's MAC to the gateway's), a plain header, the whole payload.
        frame.setBytes(0, ethernet.buffer(), ethernet.offset(), EthernetFrame.HEADER_LENGTH);
        Ipv4Packet.writeHeader(frame, EthernetFrame.HEADER_LENGTH, frame.writerIndex() - EthernetFrame.HEADER_LENGTH,
                ip.identification(), false, ip.ttl(), ip.protocol(), ip.source(), ip.destination());
        return frame;
    }
}
