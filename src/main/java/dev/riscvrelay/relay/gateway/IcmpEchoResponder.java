package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.Checksums;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import java.util.function.BooleanSupplier;

/**
 * Answers ICMP echo requests sent to the gateway's own address (RFC 792; RFC 1122 section 3.2.2.6: the reply
 * carries the request's identifier, sequence number and data unchanged). Claims every ICMP message for the gateway
 * address; the ones it cannot answer are counted.
 */
final class IcmpEchoResponder implements IpHandler {

    /** RFC 1700 / Linux default for locally originated packets. */
    static final int REPLY_TTL = 64;

    private final IcmpPacket icmp = new IcmpPacket();
    private final BooleanSupplier reassembled;
    private int nextIdentification;

    /** @param reassembled whether the request being handled came in fragments (the gateway reassembled it) */
    IcmpEchoResponder(BooleanSupplier reassembled) {
        this.reassembled = reassembled;
    }

    @Override
    public boolean handle(EthernetFrame ethernet, Ipv4Packet ip, GatewayOutput output) {
        NetworkConfig config = output.config();
        if (ip.destination() != config.gatewayAddress() || ip.protocol() != Ipv4Packet.PROTOCOL_ICMP) {
            return false;
        }
        ParseResult parsed = icmp.wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength());
        if (parsed != ParseResult.OK) {
            output.counters().increment(
                    parsed == ParseResult.BAD_CHECKSUM ? Counter.DROP_BAD_CHECKSUM : Counter.DROP_MALFORMED);
            return true;
        }
        if (icmp.type() != IcmpPacket.TYPE_ECHO_REQUEST || icmp.code() != 0) {
            output.counters().increment(Counter.GATEWAY_UNHANDLED);
            return true;
        }
        // RFC 1122 section 3.2.2.6: no reply to a request sent from a broadcast or multicast source.
        int requester = ip.source();
        if (MacAddress.isMulticast(ethernet.source()) || Ipv4Address.isMulticast(requester)
                || requester == Ipv4Address.BROADCAST || requester == config.broadcastAddress()) {
            output.counters().increment(Counter.DROP_MALFORMED);
            return true;
        }
        sendReply(ethernet, ip, output);
        output.counters().increment(Counter.GATEWAY_ECHO_REPLIES);
        return true;
    }

    /** Builds the reply without the request's IP options (RFC 1122 leaves echoing them optional). */
    private void sendReply(EthernetFrame ethernet, Ipv4Packet ip, GatewayOutput output) {
        NetworkConfig config = output.config();
        int icmpLength = icmp.length();
        int ipLength = Ipv4Packet.MIN_HEADER_LENGTH + icmpLength;
        ByteBuf reply = output.allocateFrame(EthernetFrame.HEADER_LENGTH + ipLength);
        int at = reply.readerIndex();
        at += EthernetFrame.writeHeader(reply, at, ethernet.source(), config.gatewayMac(), EthernetFrame.TYPE_IPV4);
        int identification = nextIdentification;
        nextIdentification = (nextIdentification + 1) & 0xFFFF;
        at += Ipv4Packet.writeHeader(reply, at, ipLength, identification, false, REPLY_TTL,
                Ipv4Packet.PROTOCOL_ICMP, config.gatewayAddress(), ip.source());
        IcmpPacket.writeEchoHeader(reply, at, IcmpPacket.TYPE_ECHO_REPLY, icmp.identifier(), icmp.sequenceNumber());
        reply.setBytes(at + IcmpPacket.HEADER_LENGTH, ip.buffer(), icmp.dataOffset(), icmp.dataLength());
        // The request's checksum verified, and only the type byte changes.
        reply.setShort(at + 2, Checksums.afterTypeChange(icmp.checksum(), IcmpPacket.TYPE_ECHO_REQUEST,
                IcmpPacket.TYPE_ECHO_REPLY));
        if (!reassembled.getAsBoolean() || ipLength <= config.mtu()) {
            // A request that came whole fit its sender's link, whatever the LAN MTU: so does the reply.
            output.emit(reply);
            return;
        }
        // The request came in fragments: so does the reply, in pieces the LAN carries, as Linux's would.
        try {
            long vm = ethernet.source();
            Ipv4Packet.fragment(reply, at, icmpLength, config.mtu(), identification, REPLY_TTL,
                    Ipv4Packet.PROTOCOL_ICMP, config.gatewayAddress(), ip.source(),
                    carried -> output.allocateFrame(vm, EthernetFrame.TYPE_IPV4,
                            EthernetFrame.HEADER_LENGTH + Ipv4Packet.MIN_HEADER_LENGTH + carried), output::emit);
        } finally {
            reply.release();
        }
    }
}
