package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.NdpMessage;
import dev.riscvrelay.relay.wire.ParseResult;

/**
 * The gateway's IPv6 side on the LAN: neighbour discovery for its addresses, router solicitations, ICMPv6 echo
 * to its addresses and stateless DHCPv6 ({@link Dhcpv6Responder}); UDP and TCP to its addresses go to its {@link Ipv6Handler}s (DNS); packets routed beyond the
 * LAN go to the {@link Ipv6Outside} (the NAT), or without one are answered "no route" ({@link Ipv6Unreachable}), as
 * are those the outside refuses. Everything else that reaches the gateway as IPv6 is dropped: counted when it was
 * addressed to the gateway alone (by reason: malformed, bad checksum, an extension header it does not walk,
 * unhandled), quiet when it was multicast the gateway merely overheard (the guests' own neighbour discovery and MLD
 * reports). Packets the gateway reassembled are taken like any other, but for neighbour discovery, which never comes
 * in fragments (RFC 6980).
 *
 * <p>On the switch's event loop; reuses its views, allocates only reply frames.
 */
final class Ipv6Receiver {

    private final Ipv6Packet ip = new Ipv6Packet();
    private final Icmpv6Packet icmp = new Icmpv6Packet();
    private final NdpMessage ndp = new NdpMessage();
    private final NeighborResponder neighbors = new NeighborResponder();
    private final RouterAdvertiser router = new RouterAdvertiser();
    private final Icmpv6EchoResponder echo = new Icmpv6EchoResponder();
    private final Ipv6Unreachable unreachable = new Ipv6Unreachable();
    private final Dhcpv6Responder dhcp = new Dhcpv6Responder();
    private Ipv6Handler[] handlers = new Ipv6Handler[0];
    private Ipv6Outside outside;
    /** Whether any guest has spoken IPv6 yet: until then the LAN hears no unsolicited advertisements. */
    private boolean ipv6Heard;

    /** Appends a handler for TCP and UDP to the gateway's addresses. Call before the gateway is on the switch. */
    void addHandler(Ipv6Handler handler) {
        if (handlers.length == Gateway.MAX_IP_HANDLERS) {
            throw new IllegalStateException("at most " + Gateway.MAX_IP_HANDLERS + " IPv6 handlers");
        }
        handlers = java.util.Arrays.copyOf(handlers, handlers.length + 1);
        handlers[handlers.length - 1] = handler;
    }

    /** Routes packets beyond the LAN to {@code outside}. Call before the gateway is on the switch. */
    void routeToOutside(Ipv6Outside outside) {
        this.outside = outside;
    }

    /**
     * Handles the IPv6 payload of an untagged frame sent to the gateway's MAC, broadcast, or IPv6 multicast;
     * {@code reassembled} when the gateway put it back together from fragments.
     */
    void receive(EthernetFrame ethernet, GatewayOutput output, boolean reassembled) {
        ipv6Heard = true;
        ParseResult parsed = ip.wrap(ethernet.buffer(), ethernet.payloadOffset(), ethernet.payloadLength());
        if (parsed != ParseResult.OK) {
            output.counters().increment(Counter.DROP_MALFORMED);
            return;
        }
        NetworkConfig config = output.config();
        boolean toGateway = config.isGatewayIpv6Address(ip.destinationHigh(), ip.destinationLow());
        boolean multicast = Ipv6Address.isMulticast(ip.destinationHigh());
        // RFC 4291 section 2.7: a multicast address is never a source, so nothing is ever sent back to one.
        if (Ipv6Address.isMulticast(ip.sourceHigh()) || MacAddress.isMulticast(ethernet.source())) {
            countIf(toGateway, Counter.DROP_MALFORMED, output);
            return;
        }
        if (!toGateway && !multicast) {
            boolean routed = ethernet.destination() == config.gatewayMac();
            long high = ip.destinationHigh();
            boolean beyond = routed && high != config.ipv6Prefix() && !Ipv6Address.isLinkLocal(high);
            if (beyond && outside != null) {
                int code = outside.onPacket(ethernet, ip);
                if (code != Ipv6Outside.HANDLED) {
                    unreachable.answer(ethernet, ip, code, output);
                }
            } else if (beyond && Ipv6Unreachable.mayAnswer(ip)) {
                // Beyond the LAN, and IPv6 is not carried to the outside.
                unreachable.noRoute(ethernet, ip, output);
            } else {
                // Another guest's address sent to the gateway's MAC, or nothing an error may answer.
                countIf(routed, Counter.GATEWAY_UNHANDLED, output);
            }
            return;
        }
        if (ip.nextHeader() != Ipv6Packet.NEXT_HEADER_ICMPV6) {
            int next = ip.nextHeader();
            boolean extension = next != Ipv6Packet.NEXT_HEADER_TCP && next != Ipv6Packet.NEXT_HEADER_UDP;
            if (next == Ipv6Packet.NEXT_HEADER_UDP && Dhcpv6Responder.toServers(ip)) {
                dhcp.receive(ethernet, ip, output);
                return;
            }
            if (!extension && toGateway) {
                for (Ipv6Handler handler : handlers) {
                    if (handler.handle(ethernet, ip, output)) {
                        return;
                    }
                }
            }
            countIf(toGateway, extension ? Counter.DROP_IPV6_EXTENSION_HEADER : Counter.GATEWAY_UNHANDLED, output);
            return;
        }
        parsed = icmp.wrap(ip);
        if (parsed != ParseResult.OK) {
            countIf(toGateway, parsed == ParseResult.BAD_CHECKSUM ? Counter.DROP_BAD_CHECKSUM : Counter.DROP_MALFORMED,
                    output);
            return;
        }
        int type = icmp.type();
        if (reassembled && isNeighborDiscovery(type)) {
            // RFC 6980: neighbour discovery never comes in fragments; one that does is an attack on the cache.
            output.counters().increment(Counter.DROP_NDP_INVALID);
        } else if (type == Icmpv6Packet.TYPE_NEIGHBOR_SOLICITATION || type == Icmpv6Packet.TYPE_ROUTER_SOLICITATION) {
            receiveSolicitation(ethernet, toGateway, output);
        } else if (type == Icmpv6Packet.TYPE_ECHO_REQUEST && toGateway) {
            echo.answer(ethernet, ip, icmp, output, reassembled);
        } else {
            countIf(toGateway, Counter.GATEWAY_UNHANDLED, output);
        }
    }

    /**
     * Once a second: the unsolicited router advertisement when it is due, and the ICMPv6 error budget refilled. A LAN
     * whose guests never spoke IPv6 (IPv4-only VMs, thousands of idle members) is not flooded with advertisements; a
     * guest that comes up with IPv6 solicits one anyway.
     */
    void everySecond(long now, GatewayOutput output) {
        if (ipv6Heard) {
            router.advertiseIfDue(now, output);
        }
        unreachable.refill();
    }

    private void receiveSolicitation(EthernetFrame ethernet, boolean toGateway, GatewayOutput output) {
        ParseResult parsed = ndp.wrap(ip, icmp);
        if (parsed != ParseResult.OK) {
            output.counters().increment(Counter.DROP_NDP_INVALID);
            return;
        }
        // The answer goes to the link-layer address the solicitation names (else its Ethernet source), worked out
        // here for both kinds: never to a group address, nor to the gateway's own, which would make it answer itself.
        long linkLayer = ndp.sourceLinkLayer();
        long replyTo = linkLayer != NdpMessage.NO_LINK_LAYER_ADDRESS ? linkLayer : ethernet.source();
        if (MacAddress.isMulticast(replyTo) || replyTo == output.config().gatewayMac()) {
            output.counters().increment(Counter.DROP_NDP_INVALID);
            return;
        }
        if (ndp.type() == Icmpv6Packet.TYPE_ROUTER_SOLICITATION) {
            router.answer(ip, replyTo, output);
        } else if (!neighbors.handle(ip, ndp, replyTo, output)) {
            countIf(toGateway, Counter.GATEWAY_UNHANDLED, output);
        }
    }

    /** Router and neighbour solicitations and advertisements, and redirects (RFC 4861 types 133 to 137). */
    private static boolean isNeighborDiscovery(int type) {
        return type >= 133 && type <= 137;
    }

    private static void countIf(boolean condition, Counter counter, GatewayOutput output) {
        if (condition) {
            output.counters().increment(counter);
        }
    }
}
