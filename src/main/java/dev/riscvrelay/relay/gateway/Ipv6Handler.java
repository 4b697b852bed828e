package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv6Packet;

/**
 * One thing the gateway does with IPv6 packets addressed to one of its own addresses beyond neighbour discovery and
 * ping, such as DNS to the DNS address. Same contract as {@link IpHandler}: on the event loop, no blocking, no
 * keeping the views, no allocation per packet beyond the frames sent.
 */
public interface Ipv6Handler {

    /**
     * Offers a packet whose Ethernet and IPv6 headers are validated, whose destination is one of the gateway's
     * addresses and whose next header is TCP or UDP (no extension header).
     *
     * @return true when this handler claimed the packet; false to let the next one look at it
     */
    boolean handle(EthernetFrame ethernet, Ipv6Packet ip, GatewayOutput output);
}
