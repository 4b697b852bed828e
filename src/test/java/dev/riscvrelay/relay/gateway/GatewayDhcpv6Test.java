package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Fixtures;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The gateway as stateless DHCPv6 server on a real switch: Information-request in, Reply with the DNS server out. */
class GatewayDhcpv6Test {

    private static final long GUEST_MAC = MacAddress.parse("52:55:0a:00:02:0f");
    private static final long ALL_SERVERS_MAC = MacAddress.parse("33:33:00:01:00:02");
    private static final String GUEST_LINK_LOCAL = "fe80::5055:aff:fe00:20f";
    private static final String GATEWAY_LINK_LOCAL = "fe80::5054:ff:fe12:3456";
    private static final String CLIENT_ID = "0001 000e 0001 0001 2c5e1234 52550a00020f";
    private static final String SERVER_ID = "0002 000a 0003 0001 525400123456";
    private static final String DNS_AND_REFRESH = "0017 0010 fd000010000000020000000000000003" + "0020 0004 00000708";

    private final GuestLan lan = new GuestLan(NetworkConfig.defaults());

    @Test
    void anInformationRequestGetsTheDnsServerFromTheGatewaysLinkLocalAddress() {
        send(GUEST_LINK_LOCAL, 547, "0b 6a2b1c" + CLIENT_ID + "0006 0004 0017 0018" + "0008 0002 0000");

        List<byte[]> frames = lan.takeReceived();
        assertThat(frames).hasSize(1);
        ByteBuf buf = Unpooled.wrappedBuffer(frames.get(0));
        EthernetFrame ethernet = new EthernetFrame();
        assertThat(ethernet.wrap(buf)).isEqualTo(ParseResult.OK);
        assertThat(ethernet.destination()).isEqualTo(GUEST_MAC);
        assertThat(ethernet.source()).isEqualTo(NetworkConfig.DEFAULT_GATEWAY_MAC);
        Ipv6Packet ip = new Ipv6Packet();
        assertThat(ip.wrap(buf, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
        assertThat(ip.payloadOffset() + ip.payloadLength()).as("no bytes after the packet").isEqualTo(buf.capacity());
        assertThat(Ipv6Address.format(ip.sourceHigh(), ip.sourceLow())).isEqualTo(GATEWAY_LINK_LOCAL);
        assertThat(Ipv6Address.format(ip.destinationHigh(), ip.destinationLow())).isEqualTo(GUEST_LINK_LOCAL);
        assertThat(ip.nextHeader()).isEqualTo(Ipv6Packet.NEXT_HEADER_UDP);
        UdpPacket udp = new UdpPacket();
        assertThat(udp.wrap(buf, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
        assertThat(udp.length()).isEqualTo(ip.payloadLength());
        assertThat(udp.sourcePort()).isEqualTo(547);
        assertThat(udp.destinationPort()).isEqualTo(546);
        assertThat(udp.checksumValidOverIpv6(ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(),
                ip.destinationLow())).as("UDP checksum").isTrue();
        assertThat(ByteBufUtil.hexDump(buf, udp.dataOffset(), udp.dataLength()))
                .isEqualTo(hex("07 6a2b1c" + SERVER_ID + CLIENT_ID + DNS_AND_REFRESH));
        assertThat(counters()).containsExactly(Map.entry(Counter.DHCPV6_REPLIES, 1L));
    }

    @Test
    void anInformationRequestWithoutClientIdentifierOrNamingThisServerIsAnswered() {
        send(GUEST_LINK_LOCAL, 547, "0b 000001 0008 0002 0000");
        assertThat(replyData()).isEqualTo(hex("07 000001" + SERVER_ID + DNS_AND_REFRESH));
        send(GUEST_LINK_LOCAL, 547, "0b 000002" + SERVER_ID);
        assertThat(replyData()).isEqualTo(hex("07 000002" + SERVER_ID + DNS_AND_REFRESH));
        assertThat(counters()).containsExactly(Map.entry(Counter.DHCPV6_REPLIES, 2L));
    }

    @Test
    void addressRequestsAndMessagesForOtherServersAreIgnored() {
        send(GUEST_LINK_LOCAL, 547, "01 000001" + CLIENT_ID + "0003 000c 00000001 00000000 00000000");
        send(GUEST_LINK_LOCAL, 547, "0b 000002" + CLIENT_ID + "0003 000c 00000001 00000000 00000000");
        send(GUEST_LINK_LOCAL, 547, "0b 000003 0002 000a 0003 0001 525400123457");
        send(GUEST_LINK_LOCAL, 547, "0c 00" + "00".repeat(32));
        assertThat(lan.takeReceived()).isEmpty();
        assertThat(counters()).containsExactly(Map.entry(Counter.DHCPV6_IGNORED, 4L));
    }

    @Test
    void malformedMessagesAreDroppedAndCounted() {
        send(GUEST_LINK_LOCAL, 547, "0b 6a2b");
        send(GUEST_LINK_LOCAL, 547, "0b 6a2b1c 0001 00ff 0001");
        send("::", 547, "0b 6a2b1c");
        lan.sendFromGuest(Ipv6Fixtures.frame(ALL_SERVERS_MAC, GUEST_MAC, GUEST_LINK_LOCAL, "ff02::1:2", 1, 17,
                Ipv6Fixtures.hex("0222 0223 0004")));
        byte[] badChecksum = Ipv6Fixtures.udpFrame(ALL_SERVERS_MAC, GUEST_MAC, GUEST_LINK_LOCAL, "ff02::1:2", 546,
                547, Ipv6Fixtures.hex("0b 6a2b1c"));
        badChecksum[badChecksum.length - 1] ^= 1;
        lan.sendFromGuest(badChecksum);
        assertThat(lan.takeReceived()).isEmpty();
        assertThat(counters()).containsExactly(Map.entry(Counter.DROP_BAD_CHECKSUM, 1L),
                Map.entry(Counter.DROP_DHCPV6_MALFORMED, 4L));
    }

    @Test
    void otherPortsOfTheGroupAreLeftAlone() {
        send(GUEST_LINK_LOCAL, 548, "0b 6a2b1c");
        assertThat(lan.takeReceived()).isEmpty();
        assertThat(counters()).isEmpty();
    }

    private void send(String source, int port, String dhcpHex) {
        lan.sendFromGuest(Ipv6Fixtures.udpFrame(ALL_SERVERS_MAC, GUEST_MAC, source, "ff02::1:2", 546, port,
                Ipv6Fixtures.hex(dhcpHex)));
    }

    private String replyData() {
        List<byte[]> frames = lan.takeReceived();
        assertThat(frames).hasSize(1);
        // Ethernet 14, IPv6 40, UDP 8.
        byte[] frame = frames.get(0);
        return ByteBufUtil.hexDump(frame, 62, frame.length - 62);
    }

    private static String hex(String spaced) {
        return spaced.replace(" ", "");
    }

    private Map<Counter, Long> counters() {
        return lan.nonZeroCountersBeyondTraffic();
    }
}
