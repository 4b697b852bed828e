package dev.riscvrelay.relay.nat;

import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Builds the frames the NAT sends to VMs: Ethernet from the gateway's MAC, IPv4 without options or IPv6 without
 * extension headers (a fragment carries its fragment header), in pooled direct buffers with headroom. Packets to VMs
 * stay within the LAN MTU in both families (the IPv6 link MTU advertised may be larger, 1280, but browsers' frames
 * are bounded by the LAN's); a datagram larger than that goes in fragments. Owned by the NAT's event loop (the IP
 * identification counters are plain state).
 */
public final class VmFrames {

    /** Ethernet plus a 20-byte IPv4 header: where the IP payload of a built frame starts. */
    public static final int IP_PAYLOAD_OFFSET = EthernetFrame.HEADER_LENGTH + Ipv4Packet.MIN_HEADER_LENGTH;
    /** Ethernet plus the 40-byte IPv6 header: where the payload of a built IPv6 frame starts. */
    public static final int IPV6_PAYLOAD_OFFSET = EthernetFrame.HEADER_LENGTH + Ipv6Packet.HEADER_LENGTH;
    /** What an IPv6 flow keeps to quote in a later error: the fixed header and the first 8 bytes after it. */
    public static final int IPV6_QUOTE = Ipv6Packet.HEADER_LENGTH + 8;
    /** RFC 792: an error quotes the original internet header plus the first 64 bits of its data. */
    public static final int QUOTED_DATA_BYTES = 8;
    /** The most an error quotes: a 60-byte header with options plus 8 bytes. */
    public static final int MAX_QUOTE = Ipv4Packet.MAX_HEADER_LENGTH + QUOTED_DATA_BYTES;

    /** RFC 792 destination unreachable codes the NAT sends. */
    public static final int CODE_PORT_UNREACHABLE = 3;
    /** RFC 1812 section 5.2.7.1: communication administratively prohibited. */
    public static final int CODE_ADMIN_PROHIBITED = 13;

    private final ByteBufAllocator allocator;
    private final NetworkConfig network;
    private final int replyTtl;
    private int identification;
    /** The identification of the last IPv6 packet sent in fragments (32 bits, RFC 8200 section 4.5). */
    private int identification6;

    /** Frames on {@code network} from its gateway, with the TTL the NAT's {@code config} gives replies. */
    public VmFrames(ByteBufAllocator allocator, NetworkConfig network, NatConfig config) {
        this.allocator = allocator;
        this.network = network;
        this.replyTtl = config.replyTtl();
    }

    public NetworkConfig network() {
        return network;
    }

    /** The largest IP payload (e.g. UDP header plus data) a frame to a VM can carry. */
    public int maxIpPayload() {
        return network.mtu() - Ipv4Packet.MIN_HEADER_LENGTH;
    }

    /** The largest IP payload a frame to a VM can carry in the family of {@code addresses}. */
    public int maxIpPayload(FlowAddresses addresses) {
        return addresses.ipv6() ? network.mtu() - Ipv6Packet.HEADER_LENGTH : maxIpPayload();
    }

    /** Where the IP payload of a frame built for {@code addresses} starts, from its reader index. */
    public static int ipPayloadOffset(FlowAddresses addresses) {
        return addresses.ipv6() ? IPV6_PAYLOAD_OFFSET : IP_PAYLOAD_OFFSET;
    }

    /**
     * A frame from the remote end of {@code addresses} to the VM, its IP header written (IPv4 or IPv6) for
     * {@code payloadLength} bytes of {@code protocol}; the caller writes the payload at
     * {@code frame.readerIndex() + ipPayloadOffset(addresses)}.
     */
    public ByteBuf newFrame(long vmMac, FlowAddresses addresses, int protocol, int payloadLength) {
        if (!addresses.ipv6()) {
            return newFrame(vmMac, addresses.remoteIpv4(), addresses.vmIpv4(), protocol, payloadLength);
        }
        return newFrame6(vmMac, addresses.remoteHigh(), addresses.remoteLow(), addresses.vmHigh(),
                addresses.vmLow(), protocol, payloadLength);
    }

    /** An IPv6 frame to a VM (traffic class and flow label zero); the payload goes at {@link #IPV6_PAYLOAD_OFFSET}. */
    public ByteBuf newFrame6(long vmMac, long sourceHigh, long sourceLow, long destinationHigh, long destinationLow,
            int nextHeader, int payloadLength) {
        ByteBuf frame = newIpv6Frame(vmMac, payloadLength);
        Ipv6Packet.writeHeader(frame, frame.readerIndex() + EthernetFrame.HEADER_LENGTH, payloadLength, nextHeader,
                replyTtl, sourceHigh, sourceLow, destinationHigh, destinationLow);
        return frame;
    }

    /** A frame buffer for an IPv6 packet of {@code payloadLength} bytes of payload; only Ethernet is written. */
    private ByteBuf newIpv6Frame(long vmMac, int payloadLength) {
        int headroom = network.frameHeadroom();
        ByteBuf frame = allocator.directBuffer(headroom + IPV6_PAYLOAD_OFFSET + payloadLength);
        frame.writerIndex(headroom + IPV6_PAYLOAD_OFFSET + payloadLength).readerIndex(headroom);
        EthernetFrame.writeHeader(frame, headroom, vmMac, network.gatewayMac(), EthernetFrame.TYPE_IPV6);
        return frame;
    }

    /**
     * An ICMPv6 destination unreachable frame (RFC 4443 section 3.1) to the VM of {@code addresses}, quoting
     * {@code quoteLength} bytes of the offending packet at absolute {@code quoteIndex} of {@code quoteSource}.
     *
     * @param fromRemote whether the remote host itself reports (port unreachable), else the gateway (a router)
     */
    public ByteBuf destinationUnreachable6(long vmMac, FlowAddresses addresses, boolean fromRemote, int code,
            ByteBuf quoteSource, int quoteIndex, int quoteLength) {
        long fromHigh = fromRemote ? addresses.remoteHigh() : network.ipv6Prefix();
        long fromLow = fromRemote ? addresses.remoteLow() : network.gatewayIpv6Low();
        int quoted = Icmpv6Packet.quotedLength(quoteLength, Math.min(network.mtu(), NetworkConfig.IPV6_MIN_MTU));
        int length = Icmpv6Packet.ERROR_HEADER_LENGTH + quoted;
        ByteBuf frame = newFrame6(vmMac, fromHigh, fromLow, addresses.vmHigh(), addresses.vmLow(),
                Ipv6Packet.NEXT_HEADER_ICMPV6, length);
        Icmpv6Packet.writeError(frame, frame.readerIndex() + IPV6_PAYLOAD_OFFSET,
                Icmpv6Packet.TYPE_DESTINATION_UNREACHABLE, code, 0, quoteSource, quoteIndex, quoted, fromHigh,
                fromLow, addresses.vmHigh(), addresses.vmLow());
        return frame;
    }

    /**
     * A frame buffer with Ethernet and IPv4 headers written for an IP payload of {@code payloadLength} bytes; the
     * caller writes the payload at {@code frame.readerIndex() + IP_PAYLOAD_OFFSET}.
     */
    public ByteBuf newFrame(long vmMac, int source, int destination, int protocol, int payloadLength) {
        ByteBuf frame = newIpv4Frame(vmMac, payloadLength);
        identification = (identification + 1) & 0xFFFF;
        Ipv4Packet.writeHeader(frame, frame.readerIndex() + EthernetFrame.HEADER_LENGTH,
                Ipv4Packet.MIN_HEADER_LENGTH + payloadLength, identification, false, replyTtl, protocol,
                source, destination);
        return frame;
    }

    /** A frame buffer for an IPv4 packet of {@code payloadLength} bytes of payload; only Ethernet is written. */
    private ByteBuf newIpv4Frame(long vmMac, int payloadLength) {
        int headroom = network.frameHeadroom();
        int frameLength = IP_PAYLOAD_OFFSET + payloadLength;
        ByteBuf frame = allocator.directBuffer(headroom + frameLength);
        frame.writerIndex(headroom + frameLength).readerIndex(headroom);
        EthernetFrame.writeHeader(frame, headroom, vmMac, network.gatewayMac(), EthernetFrame.TYPE_IPV4);
        return frame;
    }

    /**
     * Sends {@code length} bytes of IP payload at absolute {@code index} of {@code payload} to a VM in IPv4 fragments
     * (RFC 791) that each fit the LAN MTU, as a router does with a datagram larger than the next link carries; the VM
     * reassembles them. Returns the number of fragments emitted.
     */
    public int emitFragments(long vmMac, int source, int destination, int protocol, ByteBuf payload, int index,
            int length, FrameSink sink) {
        identification = (identification + 1) & 0xFFFF;
        return Ipv4Packet.fragment(payload, index, length, network.mtu(), identification, replyTtl, protocol, source,
                destination, carried -> newIpv4Frame(vmMac, carried), sink::emit);
    }

    /**
     * Sends {@code length} bytes of {@code nextHeader}'s packet (an upper-layer header and its data) at absolute
     * {@code index} of {@code payload} to the VM of IPv6 {@code addresses}, in fragments that each fit the LAN MTU
     * (RFC 8200 section 4.5): the NAT is the source of the packets it builds toward the VM, and a source may
     * fragment. Returns the number of fragments emitted.
     */
    public int emitFragments6(long vmMac, FlowAddresses addresses, int nextHeader, ByteBuf payload, int index,
            int length, FrameSink sink) {
        identification6++;
        return Ipv6Packet.fragment(payload, index, length, network.mtu(), identification6, nextHeader, replyTtl,
                addresses.remoteHigh(), addresses.remoteLow(), addresses.vmHigh(), addresses.vmLow(),
                carried -> newIpv6Frame(vmMac, carried), sink::emit);
    }

    /**
     * An ICMP destination unreachable (type 3) frame to a VM, quoting {@code quoteLength} bytes of the offending
     * packet (its IP header plus 8 bytes, RFC 792) found at absolute {@code quoteIndex} of {@code quoteSource}.
     *
     * @param source who reports: the destination host itself for port unreachable, the gateway for a policy denial
     */
    public ByteBuf destinationUnreachable(long vmMac, int vmAddress, int source, int code,
            ByteBuf quoteSource, int quoteIndex, int quoteLength) {
        int icmpLength = IcmpPacket.HEADER_LENGTH + quoteLength;
        ByteBuf frame = newFrame(vmMac, source, vmAddress, Ipv4Packet.PROTOCOL_ICMP, icmpLength);
        int icmp = frame.readerIndex() + IP_PAYLOAD_OFFSET;
        frame.setByte(icmp, IcmpPacket.TYPE_DESTINATION_UNREACHABLE);
        frame.setByte(icmp + 1, code);
        frame.setShort(icmp + 2, 0);
        frame.setInt(icmp + 4, 0); // unused (RFC 792); next-hop MTU only for code 4 (RFC 1191)
        frame.setBytes(icmp + IcmpPacket.HEADER_LENGTH, quoteSource, quoteIndex, quoteLength);
        IcmpPacket.fillChecksum(frame, icmp, icmpLength);
        return frame;
    }

    /** How many bytes of an IP packet an error quotes: its header plus up to 8 bytes of payload. */
    public static int quoteLength(Ipv4Packet ip) {
        return ip.headerLength() + Math.min(QUOTED_DATA_BYTES, ip.payloadLength());
    }
}
