package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.gateway.dhcp.DhcpServer;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.switching.Switch;
import dev.riscvrelay.relay.wire.ArpPacket;
import dev.riscvrelay.relay.wire.DhcpMessage;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.Dhcpv6Message;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.NdpMessage;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import java.util.function.Consumer;

/**
 * The LAN as a fuzzed gateway sees it: every frame the gateway emits is parsed back with the wire views and must be
 * a valid frame from the gateway (header, lengths and every checksum), then released; its reference must be the
 * last. DHCP replies are handed to an optional inspector before release.
 */
public final class ReplyCheckingLan implements Switch {

    private final EthernetFrame ethernet = new EthernetFrame();
    private final ArpPacket arp = new ArpPacket();
    private final Ipv4Packet ip = new Ipv4Packet();
    private final Ipv6Packet ip6 = new Ipv6Packet();
    private final Icmpv6Packet icmp6 = new Icmpv6Packet();
    private final IcmpPacket icmp = new IcmpPacket();
    private final UdpPacket udp = new UdpPacket();
    private final Dhcpv6Message dhcpv6 = new Dhcpv6Message();
    private final DhcpMessage dhcp = new DhcpMessage();
    private final Consumer<DhcpMessage> dhcpInspector;
    private NetworkConfig config;
    private int replies;

    public ReplyCheckingLan(Consumer<DhcpMessage> dhcpInspector) {
        this.dhcpInspector = dhcpInspector;
    }

    @Override
    public void attach(Port port) {
        config = ((Gateway) port).config();
    }

    @Override
    public void detach(Port port) {
    }

    public int replies() {
        return replies;
    }

    @Override
    public void forward(Port ingress, ByteBuf frame) {
        try {
            assertThat(ingress).isInstanceOf(Gateway.class);
            check(frame);
            replies++;
        } finally {
            assertThat(frame.release()).as("the LAN holds the last reference of a reply").isTrue();
        }
    }

    private void check(ByteBuf frame) {
        assertThat(frame.readerIndex()).as("headroom").isGreaterThanOrEqualTo(config.frameHeadroom());
        assertThat(ethernet.wrap(frame)).isEqualTo(ParseResult.OK);
        assertThat(ethernet.source()).isEqualTo(config.gatewayMac());
        assertThat(ethernet.destination()).isNotEqualTo(config.gatewayMac());
        assertThat(ethernet.hasVlanTag()).isFalse();
        ByteBuf buf = ethernet.buffer();
        switch (ethernet.etherType()) {
            case EthernetFrame.TYPE_ARP -> {
                assertThat(ethernet.payloadLength()).isEqualTo(ArpPacket.LENGTH);
                assertThat(arp.wrap(buf, ethernet.payloadOffset(), ethernet.payloadLength()))
                        .isEqualTo(ParseResult.OK);
                assertThat(arp.operation()).isEqualTo(ArpPacket.OPERATION_REPLY);
                assertThat(arp.senderMac()).isEqualTo(config.gatewayMac());
                assertThat(config.isGatewayAddress(arp.senderIp())).isTrue();
                assertThat(arp.targetMac()).isEqualTo(ethernet.destination());
            }
            case EthernetFrame.TYPE_IPV4 -> checkIpv4(buf);
            case EthernetFrame.TYPE_IPV6 -> checkIpv6(buf);
            default -> throw new AssertionError("the gateway sent EtherType " + ethernet.etherType());
        }
    }

    private void checkIpv6(ByteBuf buf) {
        assertThat(ip6.wrap(buf, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
        assertThat(Ipv6Packet.HEADER_LENGTH + ip6.payloadLength()).as("no padding, no trailing bytes")
                .isEqualTo(ethernet.payloadLength());
        assertThat(config.isGatewayIpv6Address(ip6.sourceHigh(), ip6.sourceLow())).isTrue();
        assertThat(Ipv6Packet.HEADER_LENGTH + ip6.payloadLength()).isLessThanOrEqualTo(config.ipv6Mtu());
        if (ip6.nextHeader() == Ipv6Packet.NEXT_HEADER_UDP) {
            assertThat(udp.wrap(buf, ip6.payloadOffset(), ip6.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(udp.length()).isEqualTo(ip6.payloadLength());
            assertThat(udp.checksumValidOverIpv6(ip6.sourceHigh(), ip6.sourceLow(), ip6.destinationHigh(),
                    ip6.destinationLow())).isTrue();
            if (udp.sourcePort() == Dhcpv6Message.SERVER_PORT) {
                // Stateless DHCPv6: a Reply from the link-local address, naming the gateway as server.
                assertThat(udp.destinationPort()).isEqualTo(Dhcpv6Message.CLIENT_PORT);
                assertThat(ip6.sourceHigh()).isEqualTo(Ipv6Address.LINK_LOCAL_PREFIX);
                assertThat(Ipv6Address.isMulticast(ip6.destinationHigh())).isFalse();
                assertThat(dhcpv6.wrap(buf, udp.dataOffset(), udp.dataLength())).isEqualTo(ParseResult.OK);
                assertThat(dhcpv6.messageType()).isEqualTo(Dhcpv6Message.REPLY);
                assertThat(dhcpv6.serverIdentifierIs(config.gatewayMac())).isTrue();
                assertThat(dhcpv6.hasIdentityAssociation()).isFalse();
                return;
            }
            assertThat(udp.sourcePort()).isEqualTo(53);
            assertThat(ip6.sourceLow()).isEqualTo(config.dnsIpv6Low());
            assertThat(Ipv6Packet.HEADER_LENGTH + ip6.payloadLength()).isLessThanOrEqualTo(config.mtu());
            assertThat(Ipv6Address.isMulticast(ip6.destinationHigh())).isFalse();
            assertThat(buf.getUnsignedShort(udp.dataOffset() + 2) & 0x8000).as("QR: a response").isNotZero();
            return;
        }
        assertThat(ip6.nextHeader()).isEqualTo(Ipv6Packet.NEXT_HEADER_ICMPV6);
        assertThat(icmp6.wrap(ip6)).isEqualTo(ParseResult.OK);
        boolean toAllNodes = ip6.destinationHigh() == Ipv6Address.LINK_SCOPE_MULTICAST_HIGH
                && ip6.destinationLow() == Ipv6Address.ALL_NODES_LOW;
        assertThat(toAllNodes || !Ipv6Address.isMulticast(ip6.destinationHigh())).isTrue();
        assertThat(toAllNodes ? ethernet.destination() == Ipv6Address.multicastMac(Ipv6Address.ALL_NODES_LOW)
                : !dev.riscvrelay.relay.wire.MacAddress.isMulticast(ethernet.destination())).isTrue();
        switch (icmp6.type()) {
            case Icmpv6Packet.TYPE_ECHO_REPLY -> assertThat(icmp6.hasEchoHeader()).isTrue();
            case Icmpv6Packet.TYPE_DESTINATION_UNREACHABLE -> {
                assertThat(Ipv6Packet.HEADER_LENGTH + ip6.payloadLength()).isLessThanOrEqualTo(config.mtu());
                assertThat(icmp6.length()).isGreaterThan(8);
                assertThat(buf.getUnsignedByte(icmp6.offset() + 8) >>> 4).as("quotes an IPv6 packet").isEqualTo(6);
            }
            case Icmpv6Packet.TYPE_NEIGHBOR_ADVERTISEMENT, Icmpv6Packet.TYPE_ROUTER_ADVERTISEMENT ->
                    assertThat(ip6.hopLimit()).isEqualTo(NdpMessage.HOP_LIMIT);
            default -> throw new AssertionError("the gateway sent ICMPv6 type " + icmp6.type());
        }
    }

    private void checkIpv4(ByteBuf buf) {
        assertThat(ip.wrap(buf, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
        assertThat(ip.totalLength()).as("no padding, no trailing bytes").isEqualTo(ethernet.payloadLength());
        assertThat(ip.totalLength()).isLessThanOrEqualTo(Gateway.MAX_FRAME_SIZE - EthernetFrame.HEADER_LENGTH);
        assertThat(ip.isFragment()).isFalse();
        assertThat(config.isGatewayAddress(ip.source())).isTrue();
        switch (ip.protocol()) {
            case Ipv4Packet.PROTOCOL_ICMP -> {
                assertThat(icmp.wrap(buf, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
                assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_ECHO_REPLY);
            }
            case Ipv4Packet.PROTOCOL_UDP -> {
                assertThat(udp.wrap(buf, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
                assertThat(udp.length()).isEqualTo(ip.payloadLength());
                assertThat(udp.hasChecksum()).isTrue();
                assertThat(udp.checksumValid(ip.source(), ip.destination())).isTrue();
                if (udp.sourcePort() == DhcpServer.SERVER_PORT) {
                    assertThat(udp.destinationPort()).isEqualTo(DhcpServer.CLIENT_PORT);
                    assertThat(dhcp.wrap(buf, udp.dataOffset(), udp.dataLength())).isEqualTo(ParseResult.OK);
                    assertThat(dhcp.op()).isEqualTo(DhcpMessage.OP_BOOTREPLY);
                    assertThat(dhcp.messageType()).isIn(DhcpMessage.OFFER, DhcpMessage.ACK, DhcpMessage.NAK);
                    assertThat(dhcp.serverIdentifier()).isEqualTo(config.gatewayAddress());
                    if (dhcpInspector != null) {
                        dhcpInspector.accept(dhcp);
                    }
                } else {
                    assertThat(udp.sourcePort()).isEqualTo(53);
                    assertThat(ip.source()).isEqualTo(config.dnsAddress());
                    assertThat(udp.dataLength()).isGreaterThanOrEqualTo(12);
                    int flags = buf.getUnsignedShort(udp.dataOffset() + 2);
                    assertThat(flags & 0x8000).as("QR: a response").isNotZero();
                }
            }
            default -> throw new AssertionError("the gateway sent IP protocol " + ip.protocol());
        }
    }
}
