package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.NdpMessage;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's router advertisements (RFC 4861 section 6.2), which let guests configure IPv6 by SLAAC (RFC 4862):
 * the gateway as default router, the LAN's /64 as on-link and autonomous, the link MTU, and the DNS forwarder's
 * IPv6 address as recursive DNS server (RFC 8106), with the O flag: the same server is given by stateless DHCPv6
 * ({@link Dhcpv6Responder}). Sent in answer to a
 * router solicitation and every {@value #INTERVAL_SECONDS} s unsolicited to all nodes, well within the router
 * lifetime, so a guest's default route and addresses never lapse while the relay runs.
 */
final class RouterAdvertiser {

    /** Unsolicited advertisements: RFC 4861 section 6.2.1 allows 4..1800 s, with a default maximum of 600 s. */
    static final int INTERVAL_SECONDS = 300;
    /** Three intervals and more, as RFC 4861's default of 3 × MaxRtrAdvInterval. */
    static final int ROUTER_LIFETIME_SECONDS = 1800;
    /** radvd's defaults: a day valid, four hours preferred, renewed by every advertisement. */
    static final int VALID_LIFETIME_SECONDS = 86_400;
    static final int PREFERRED_LIFETIME_SECONDS = 14_400;
    /** RFC 8106 section 5.1 asks for at least 3 × MaxRtrAdvInterval; as long as the router lifetime. */
    static final int RDNSS_LIFETIME_SECONDS = ROUTER_LIFETIME_SECONDS;
    /** The hop limit hosts should use (RFC 4861 section 4.2), Linux's own default. */
    static final int CUR_HOP_LIMIT = 64;

    static final int ADVERTISEMENT_LENGTH = NdpMessage.ROUTER_ADVERTISEMENT_LENGTH
            + NdpMessage.LINK_LAYER_OPTION_LENGTH + NdpMessage.MTU_OPTION_LENGTH
            + NdpMessage.PREFIX_INFORMATION_LENGTH + NdpMessage.RDNSS_OPTION_LENGTH;
    static final int FRAME_LENGTH = EthernetFrame.HEADER_LENGTH + Ipv6Packet.HEADER_LENGTH + ADVERTISEMENT_LENGTH;

    private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(INTERVAL_SECONDS);

    private long nextUnsolicited = Long.MIN_VALUE;

    /**
     * Answers a valid router solicitation: to its sender when it has an address (RFC 4861 section 6.2.6 allows
     * unicast), to all nodes when it came from the unspecified address.
     *
     * @param senderMac the solicitation's link-layer option, else its source
     */
    void answer(Ipv6Packet ip, long senderMac, GatewayOutput output) {
        if (Ipv6Address.isUnspecified(ip.sourceHigh(), ip.sourceLow())) {
            sendToAllNodes(output);
            return;
        }
        send(output, senderMac, ip.sourceHigh(), ip.sourceLow());
    }

    /** Sends the unsolicited advertisement when its interval has passed since the last one; {@code now} in nanos. */
    void advertiseIfDue(long now, GatewayOutput output) {
        if (nextUnsolicited != Long.MIN_VALUE && now - nextUnsolicited < 0) {
            return;
        }
        nextUnsolicited = now + INTERVAL_NANOS;
        sendToAllNodes(output);
    }

    private void sendToAllNodes(GatewayOutput output) {
        send(output, Ipv6Address.multicastMac(Ipv6Address.ALL_NODES_LOW), Ipv6Address.LINK_SCOPE_MULTICAST_HIGH,
                Ipv6Address.ALL_NODES_LOW);
    }

    private static void send(GatewayOutput output, long toMac, long toHigh, long toLow) {
        NetworkConfig config = output.config();
        // RFC 4861 section 4.2: advertisements come from the router's link-local address.
        long fromHigh = Ipv6Address.LINK_LOCAL_PREFIX;
        long fromLow = config.gatewayLinkLocalLow();
        ByteBuf frame = output.allocateFrame(FRAME_LENGTH);
        int at = frame.readerIndex();
        at += EthernetFrame.writeHeader(frame, at, toMac, config.gatewayMac(), EthernetFrame.TYPE_IPV6);
        at += Ipv6Packet.writeHeader(frame, at, ADVERTISEMENT_LENGTH, Ipv6Packet.NEXT_HEADER_ICMPV6,
                NdpMessage.HOP_LIMIT, fromHigh, fromLow, toHigh, toLow);
        int message = at;
        // O: the DNS server is also given by stateless DHCPv6 (Dhcpv6Responder), for hosts that do not read RDNSS.
        at += NdpMessage.writeRouterAdvertisement(frame, at, CUR_HOP_LIMIT, NdpMessage.RA_OTHER_CONFIGURATION,
                ROUTER_LIFETIME_SECONDS);
        at += NdpMessage.writeLinkLayerOption(frame, at, NdpMessage.OPTION_SOURCE_LINK_LAYER, config.gatewayMac());
        at += NdpMessage.writeMtuOption(frame, at, config.ipv6Mtu());
        at += NdpMessage.writePrefixInformation(frame, at, config.ipv6Prefix(),
                NdpMessage.PREFIX_ON_LINK | NdpMessage.PREFIX_AUTONOMOUS, VALID_LIFETIME_SECONDS,
                PREFERRED_LIFETIME_SECONDS);
        NdpMessage.writeRdnssOption(frame, at, RDNSS_LIFETIME_SECONDS, config.ipv6Prefix(), config.dnsIpv6Low());
        Icmpv6Packet.fillChecksum(frame, message, ADVERTISEMENT_LENGTH, fromHigh, fromLow, toHigh, toLow);
        output.emit(frame);
        output.counters().increment(Counter.GATEWAY_ROUTER_ADVERTISEMENTS);
    }
}
