package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv6Packet;

/**
 * Where the gateway hands IPv6 packets a VM routes beyond the LAN (the NAT): the IPv6 counterpart of
 * {@link RouteToOutside.Outside}. Same contract as {@link IpHandler}: on the event loop, the caller owns the frame.
 */
@FunctionalInterface
public interface Ipv6Outside {

    /** {@link #onPacket} carried the packet, or dropped and counted it: nothing to answer. */
    int HANDLED = -1;

    /**
     * Takes one packet from a VM (to the gateway's MAC, a unicast destination outside the LAN's /64 and not
     * link-local). Returns {@link #HANDLED}, or an ICMPv6 destination unreachable code the gateway answers with (rate
     * limited, never about an error): the egress policy denied the destination, or the host has no route to it.
     */
    int onPacket(EthernetFrame ethernet, Ipv6Packet ip);
}
