package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Packet;

/**
 * One thing the gateway does with IPv4 packets: answer pings, later DHCP (UDP 67), DNS (UDP 53 to the DNS address)
 * and NAT (anything not for the gateway). The gateway offers each validated, unfragmented packet to its handlers in
 * order until one claims it.
 *
 * <p>Handlers run on the switch's event loop, must not block, must not keep the views or their buffer past the
 * call (the gateway releases it), and must not allocate per packet beyond the frames they send.
 */
public interface IpHandler {

    /**
     * Offers a packet whose Ethernet and IPv4 headers (checksum included) are already validated.
     *
     * @return true when this handler claimed the packet: it answered, forwarded, or dropped and counted it;
     *     false to let the next handler look at it
     */
    boolean handle(EthernetFrame ethernet, Ipv4Packet ip, GatewayOutput output);
}
