package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.NdpMessage;
import io.netty.buffer.ByteBuf;

/**
 * Answers neighbour solicitations for the gateway's IPv6 addresses (its link-local and global addresses and the
 * DNS address), IPv6's ARP (RFC 4861 section 7.2.4): a solicited advertisement with the router flag back to the
 * asker, or, to a duplicate address detection probe from the unspecified address, an advertisement to all nodes
 * that tells the prober the address is taken. Solicitations for other targets are the guests' business.
 */
final class NeighborResponder {

    static final int ADVERTISEMENT_LENGTH = NdpMessage.NEIGHBOR_MESSAGE_LENGTH + NdpMessage.LINK_LAYER_OPTION_LENGTH;
    static final int FRAME_LENGTH = EthernetFrame.HEADER_LENGTH + Ipv6Packet.HEADER_LENGTH + ADVERTISEMENT_LENGTH;

    /**
     * Handles a valid solicitation ({@link NdpMessage#wrap} passed); returns whether its target was the gateway's.
     *
     * @param senderMac where a solicitation from an address is answered: its link-layer option, else its source
     */
    boolean handle(Ipv6Packet ip, NdpMessage solicitation, long senderMac, GatewayOutput output) {
        NetworkConfig config = output.config();
        long targetHigh = solicitation.targetHigh();
        long targetLow = solicitation.targetLow();
        if (!config.isGatewayIpv6Address(targetHigh, targetLow)) {
            return false;
        }
        boolean probe = Ipv6Address.isUnspecified(ip.sourceHigh(), ip.sourceLow());
        long toHigh = probe ? Ipv6Address.LINK_SCOPE_MULTICAST_HIGH : ip.sourceHigh();
        long toLow = probe ? Ipv6Address.ALL_NODES_LOW : ip.sourceLow();
        long toMac = probe ? Ipv6Address.multicastMac(Ipv6Address.ALL_NODES_LOW) : senderMac;
        int flags = NdpMessage.FLAG_ROUTER | NdpMessage.FLAG_OVERRIDE | (probe ? 0 : NdpMessage.FLAG_SOLICITED);

        ByteBuf reply = output.allocateFrame(FRAME_LENGTH);
        int at = reply.readerIndex();
        at += EthernetFrame.writeHeader(reply, at, toMac, config.gatewayMac(), EthernetFrame.TYPE_IPV6);
        at += Ipv6Packet.writeHeader(reply, at, ADVERTISEMENT_LENGTH, Ipv6Packet.NEXT_HEADER_ICMPV6,
                NdpMessage.HOP_LIMIT, targetHigh, targetLow, toHigh, toLow);
        NdpMessage.writeNeighborAdvertisement(reply, at, flags, targetHigh, targetLow, config.gatewayMac());
        Icmpv6Packet.fillChecksum(reply, at, ADVERTISEMENT_LENGTH, targetHigh, targetLow, toHigh, toLow);
        output.emit(reply);
        output.counters().increment(Counter.GATEWAY_NEIGHBOR_ADVERTISEMENTS);
        return true;
    }
}
