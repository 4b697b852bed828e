package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;

/**
 * A hash of the flow an Ethernet frame belongs to, for queues that keep flows apart: the addresses, the protocol
 * and (for TCP and UDP) the ports of IPv4 and IPv6 packets; for anything else (ARP, any other EtherType) the
 * EtherType and both MAC addresses, so one station's flood of such frames is not the same flow as another station's
 * frames of that type. Frames of one flow always hash alike. An IPv4 fragment, and an IPv6 packet whose ports sit
 * behind an extension header, hash without ports, so a datagram's fragments stay one flow. Reads only the frame's
 * bytes and never throws: a truncated or malformed frame hashes by what it has (0 without a whole Ethernet header).
 */
public final class FlowHash {

    private static final int IPV4_FRAGMENT_FIELD = 6;
    /** More-fragments flag and fragment offset: both zero for a packet that is not a fragment. */
    private static final int IPV4_FRAGMENT_MASK = 0x3FFF;
    private static final int IPV4_PROTOCOL = 9;
    private static final int IPV4_ADDRESSES = 12;
    private static final int IPV6_NEXT_HEADER = 6;
    private static final int IPV6_ADDRESSES = 8;
    private static final int PORTS_LENGTH = 4;

    /** The view each frame is read through; one per owner, which keeps this allocation-free and not thread-safe. */
    private final EthernetFrame ethernet = new EthernetFrame();

    /** The flow hash of the frame between {@code frame}'s reader and writer index. */
    public int of(ByteBuf frame) {
        if (ethernet.wrap(frame) != ParseResult.OK) {
            return 0;
        }
        int etherType = ethernet.etherType();
        int ip = ethernet.payloadOffset();
        int length = ethernet.payloadLength();
        long h = etherType;
        if (etherType == EthernetFrame.TYPE_IPV4 && length >= Ipv4Packet.MIN_HEADER_LENGTH) {
            int protocol = frame.getUnsignedByte(ip + IPV4_PROTOCOL);
            h = mix(h, protocol);
            h = mix(h, frame.getLong(ip + IPV4_ADDRESSES));
            int headerLength = (frame.getUnsignedByte(ip) & 0x0F) * 4;
            boolean fragment = (frame.getUnsignedShort(ip + IPV4_FRAGMENT_FIELD) & IPV4_FRAGMENT_MASK) != 0;
            if (!fragment && hasPorts(protocol) && headerLength >= Ipv4Packet.MIN_HEADER_LENGTH
                    && length >= headerLength + PORTS_LENGTH) {
                h = mix(h, frame.getUnsignedInt(ip + headerLength));
            }
        } else if (etherType == EthernetFrame.TYPE_IPV6 && length >= Ipv6Packet.HEADER_LENGTH) {
            int nextHeader = frame.getUnsignedByte(ip + IPV6_NEXT_HEADER);
            h = mix(h, nextHeader);
            for (int i = 0; i < 4; i++) {
                h = mix(h, frame.getLong(ip + IPV6_ADDRESSES + 8 * i));
            }
            if (hasPorts(nextHeader) && length >= Ipv6Packet.HEADER_LENGTH + PORTS_LENGTH) {
                h = mix(h, frame.getUnsignedInt(ip + Ipv6Packet.HEADER_LENGTH));
            }
        } else {
            h = mix(h, ethernet.destination());
            h = mix(h, ethernet.source());
        }
        return finish(h);
    }

    private static boolean hasPorts(int protocol) {
        return protocol == Ipv4Packet.PROTOCOL_TCP || protocol == Ipv4Packet.PROTOCOL_UDP;
    }

    private static long mix(long h, long value) {
        return (h ^ value) * 0x9E37_79B9_7F4A_7C15L;
    }

    /** Folds the high bits down, so that any mask of the low bits depends on every input (a MurmurHash3 finaliser). */
    private static int finish(long h) {
        h ^= h >>> 33;
        h *= 0xFF51_AFD7_ED55_8CCDL;
        h ^= h >>> 33;
        return (int) h;
    }
}
