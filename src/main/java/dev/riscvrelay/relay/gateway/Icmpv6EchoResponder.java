package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.Checksums;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import io.netty.buffer.ByteBuf;

/**
 * Answers ICMPv6 echo requests to the gateway's IPv6 addresses (RFC 4443 section 4.2): the reply comes from the
 * address the request went to and carries its identifier, sequence number and data unchanged.
 */
final class Icmpv6EchoResponder {

    /** The hop limit of the gateway's own packets, Linux's default. */
    static final int HOP_LIMIT = 64;

    private int nextIdentification;

    /**
     * Answers a checksummed echo request whose destination is one of the gateway's unicast addresses;
     * {@code reassembled} when the request came in fragments, and then a reply larger than the LAN MTU goes in
     * fragments too.
     */
    void answer(EthernetFrame ethernet, Ipv6Packet ip, Icmpv6Packet echo, GatewayOutput output, boolean reassembled) {
        if (!echo.hasEchoHeader() || echo.code() != 0) {
            output.counters().increment(Counter.DROP_MALFORMED);
            return;
        }
        NetworkConfig config = output.config();
        int length = echo.length();
        long fromHigh = ip.destinationHigh();
        long fromLow = ip.destinationLow();
        ByteBuf reply = output.allocateFrame(EthernetFrame.HEADER_LENGTH + Ipv6Packet.HEADER_LENGTH + length);
        int at = reply.readerIndex();
        at += EthernetFrame.writeHeader(reply, at, ethernet.source(), config.gatewayMac(), EthernetFrame.TYPE_IPV6);
        at += Ipv6Packet.writeHeader(reply, at, length, Ipv6Packet.NEXT_HEADER_ICMPV6, HOP_LIMIT, fromHigh, fromLow,
                ip.sourceHigh(), ip.sourceLow());
        reply.setBytes(at, ip.buffer(), echo.offset(), length);
        reply.setByte(at, Icmpv6Packet.TYPE_ECHO_REPLY);
        // Swapping the addresses leaves the pseudo-header's sum as it was: only the type byte changes the checksum.
        reply.setShort(at + 2, Checksums.afterTypeChange(echo.checksum(), Icmpv6Packet.TYPE_ECHO_REQUEST,
                Icmpv6Packet.TYPE_ECHO_REPLY));
        output.counters().increment(Counter.GATEWAY_ECHO_REPLIES);
        if (!reassembled || Ipv6Packet.HEADER_LENGTH + length <= config.mtu()) {
            // A request that came whole fit its sender's link, whatever the LAN MTU: so does the reply.
            output.emit(reply);
            return;
        }
        try {
            long vm = ethernet.source();
            Ipv6Packet.fragment(reply, at, length, config.mtu(), nextIdentification++, Ipv6Packet.NEXT_HEADER_ICMPV6,
                    HOP_LIMIT, fromHigh, fromLow, ip.sourceHigh(), ip.sourceLow(),
                    carried -> output.allocateFrame(vm, EthernetFrame.TYPE_IPV6,
                            EthernetFrame.HEADER_LENGTH + Ipv6Packet.HEADER_LENGTH + carried), output::emit);
        } finally {
            reply.release();
        }
    }
}
