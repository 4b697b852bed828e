package dev.riscvrelay.relay.connect;

import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * What a router does with a packet too big for its next link (RFC 1191): a frame from the local member that is
 * larger than one datagram to the relay carries is dropped, and when it is an IPv4 packet with DF set (every TCP
 * segment of Linux), the member gets an ICMP "fragmentation needed" naming the MTU that fits. Its TCP then sends
 * smaller segments at once instead of retransmitting full-size ones into a black hole. Used when the path to the
 * relay shrinks under a running host, or when the local MTU was set larger than the path carries.
 *
 * <p>One instance per connector, used from one thread at a time (views are reused).
 */
final class PacketTooBig {

    /** RFC 792 destination unreachable, code 4: fragmentation needed and DF set. */
    static final int CODE_FRAGMENTATION_NEEDED = 4;
    /** RFC 792: the error quotes the original IP header and the first 64 bits of its data. */
    private static final int QUOTED_DATA = 8;
    private static final int TTL = 64;

    private final EthernetFrame ethernet = new EthernetFrame();
    private final Ipv4Packet ip = new Ipv4Packet();
    private final ByteBufAllocator allocator;
    private int identification;

    PacketTooBig(ByteBufAllocator allocator) {
        this.allocator = allocator;
    }

    /**
     * The ICMP error for {@code frame} (not consumed), addressed back to its sender and naming {@code mtu}; null when
     * the frame is no unfragmented IPv4 packet with DF set, or is itself an ICMP error (never answered, RFC 1122).
     */
    ByteBuf answer(ByteBuf frame, int mtu) {
        if (ethernet.wrap(frame) != ParseResult.OK || ethernet.etherType() != EthernetFrame.TYPE_IPV4
                || ethernet.hasVlanTag()) {
            return null;
        }
        if (ip.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength()) != ParseResult.OK
                || !ip.dontFragment() || ip.isFragment()) {
            return null;
        }
        if (ip.protocol() == Ipv4Packet.PROTOCOL_ICMP && ip.payloadLength() > 0
                && !isEchoRequestOrReply(frame.getUnsignedByte(ip.payloadOffset()))) {
            return null;
        }
        int quote = ip.headerLength() + Math.min(QUOTED_DATA, ip.payloadLength());
        int icmpLength = IcmpPacket.HEADER_LENGTH + quote;
        int ipLength = Ipv4Packet.MIN_HEADER_LENGTH + icmpLength;
        ByteBuf reply = allocator.directBuffer(EthernetFrame.HEADER_LENGTH + ipLength);
        // Back to the sender, from the MAC and address it sent to: as the next hop would answer.
        EthernetFrame.writeHeader(reply, 0, ethernet.source(), ethernet.destination(), EthernetFrame.TYPE_IPV4);
        identification = (identification + 1) & 0xFFFF;
        int ipAt = EthernetFrame.HEADER_LENGTH;
        Ipv4Packet.writeHeader(reply, ipAt, ipLength, identification, false, TTL, Ipv4Packet.PROTOCOL_ICMP,
                ip.destination(), ip.source());
        int icmp = ipAt + Ipv4Packet.MIN_HEADER_LENGTH;
        reply.setByte(icmp, IcmpPacket.TYPE_DESTINATION_UNREACHABLE);
        reply.setByte(icmp + 1, CODE_FRAGMENTATION_NEEDED);
        reply.setShort(icmp + 2, 0);
        reply.setShort(icmp + 4, 0); // unused
        reply.setShort(icmp + 6, mtu); // next-hop MTU (RFC 1191 section 4)
        reply.setBytes(icmp + IcmpPacket.HEADER_LENGTH, frame, ip.offset(), quote);
        IcmpPacket.fillChecksum(reply, icmp, icmpLength);
        reply.writerIndex(EthernetFrame.HEADER_LENGTH + ipLength);
        return reply;
    }

    private static boolean isEchoRequestOrReply(int type) {
        return type == IcmpPacket.TYPE_ECHO_REQUEST || type == IcmpPacket.TYPE_ECHO_REPLY;
    }
}
