package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.Dhcpv6Message;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;

/**
 * The gateway as stateless DHCPv6 server (RFC 8415 section 6.1): an Information-request to ff02::1:2 gets a Reply
 * from the gateway's link-local address naming the DNS forwarder's IPv6 address (option 23, RFC 3646), for hosts
 * that take DNS from DHCPv6 rather than from the router advertisement's RDNSS option (which sets the O flag to say
 * so). Addresses come from SLAAC only: Solicit and the other address requests are left unanswered, as RFC 8415
 * section 18.3.1 allows a server without addresses to do, and so are Information-requests that section 16.12 says
 * to discard (with an identity association, or naming another server).
 *
 * <p>On the switch's event loop; reuses its views, allocates only the reply frame.
 */
final class Dhcpv6Responder {

    /** How long the client may keep the answer (RFC 8415 section 21.23): as long as the RA's RDNSS lifetime. */
    static final int INFORMATION_REFRESH_SECONDS = RouterAdvertiser.RDNSS_LIFETIME_SECONDS;
    private static final int HOP_LIMIT = 64;

    private final UdpPacket udp = new UdpPacket();
    private final Dhcpv6Message message = new Dhcpv6Message();

    /** Whether {@code ip} (UDP, no extension header) is addressed to ff02::1:2, where DHCPv6 servers listen. */
    static boolean toServers(Ipv6Packet ip) {
        return ip.destinationHigh() == Ipv6Address.LINK_SCOPE_MULTICAST_HIGH
                && ip.destinationLow() == Dhcpv6Message.ALL_RELAY_AGENTS_AND_SERVERS_LOW;
    }

    /** Answers a UDP packet to ff02::1:2 (see {@link #toServers}); other ports than 547 are left alone. */
    void receive(EthernetFrame ethernet, Ipv6Packet ip, GatewayOutput output) {
        ParseResult parsed = udp.wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength());
        if (parsed != ParseResult.OK) {
            output.counters().increment(Counter.DROP_DHCPV6_MALFORMED);
            return;
        }
        if (udp.destinationPort() != Dhcpv6Message.SERVER_PORT) {
            return; // not DHCPv6: another use of the group the gateway merely overheard
        }
        if (!udp.checksumValidOverIpv6(ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(), ip.destinationLow())) {
            output.counters().increment(Counter.DROP_BAD_CHECKSUM);
            return;
        }
        parsed = message.wrap(ip.buffer(), udp.dataOffset(), udp.dataLength());
        if (parsed == ParseResult.UNSUPPORTED_TYPE) {
            output.counters().increment(Counter.DHCPV6_IGNORED); // relay messages: the gateway is no relay
            return;
        }
        // A reply goes to the sender's address: the unspecified one cannot be answered.
        if (parsed != ParseResult.OK || Ipv6Address.isUnspecified(ip.sourceHigh(), ip.sourceLow())) {
            output.counters().increment(Counter.DROP_DHCPV6_MALFORMED);
            return;
        }
        NetworkConfig config = output.config();
        if (message.messageType() != Dhcpv6Message.INFORMATION_REQUEST || message.hasIdentityAssociation()
                || message.hasServerIdentifier() && !message.serverIdentifierIs(config.gatewayMac())) {
            output.counters().increment(Counter.DHCPV6_IGNORED);
            return;
        }
        reply(ethernet, ip, config, output);
    }

    /** RFC 8415 section 18.3.6: server identifier, the client's identifier if it sent one, the DNS server. */
    private void reply(EthernetFrame ethernet, Ipv6Packet ip, NetworkConfig config, GatewayOutput output) {
        int clientId = message.hasClientIdentifier()
                ? Dhcpv6Message.OPTION_HEADER_LENGTH + message.clientIdentifierLength() : 0;
        int dhcpLength = Dhcpv6Message.HEADER_LENGTH + Dhcpv6Message.SERVER_IDENTIFIER_LENGTH + clientId
                + Dhcpv6Message.DNS_SERVERS_LENGTH + Dhcpv6Message.INFORMATION_REFRESH_TIME_LENGTH;
        int udpLength = UdpPacket.HEADER_LENGTH + dhcpLength;
        long fromHigh = Ipv6Address.LINK_LOCAL_PREFIX;
        long fromLow = config.gatewayLinkLocalLow();
        ByteBuf frame = output.allocateFrame(EthernetFrame.HEADER_LENGTH + Ipv6Packet.HEADER_LENGTH + udpLength);
        int at = frame.readerIndex();
        at += EthernetFrame.writeHeader(frame, at, ethernet.source(), config.gatewayMac(), EthernetFrame.TYPE_IPV6);
        at += Ipv6Packet.writeHeader(frame, at, udpLength, Ipv6Packet.NEXT_HEADER_UDP, HOP_LIMIT, fromHigh, fromLow,
                ip.sourceHigh(), ip.sourceLow());
        int datagram = at;
        at += UdpPacket.writeHeader(frame, at, Dhcpv6Message.SERVER_PORT, Dhcpv6Message.CLIENT_PORT, udpLength);
        at += Dhcpv6Message.writeHeader(frame, at, Dhcpv6Message.REPLY, message.transactionId());
        at += Dhcpv6Message.writeServerIdentifier(frame, at, config.gatewayMac());
        if (message.hasClientIdentifier()) {
            at += Dhcpv6Message.writeClientIdentifier(frame, at, ip.buffer(), message.clientIdentifierOffset(),
                    message.clientIdentifierLength());
        }
        at += Dhcpv6Message.writeDnsServers(frame, at, config.ipv6Prefix(), config.dnsIpv6Low());
        Dhcpv6Message.writeInformationRefreshTime(frame, at, INFORMATION_REFRESH_SECONDS);
        UdpPacket.fillChecksumOverIpv6(frame, datagram, udpLength, fromHigh, fromLow, ip.sourceHigh(),
                ip.sourceLow());
        output.emit(frame);
        output.counters().increment(Counter.DHCPV6_REPLIES);
    }
}
