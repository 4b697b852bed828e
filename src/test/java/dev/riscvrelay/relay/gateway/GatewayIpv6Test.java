package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Fixtures;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The gateway's IPv6 side on a real switch: neighbour discovery, router advertisements and echo. */
class GatewayIpv6Test {

    private static final long GATEWAY_MAC = NetworkConfig.DEFAULT_GATEWAY_MAC;
    private static final long GUEST_MAC = MacAddress.parse("52:55:0a:00:02:0f");
    private static final String GUEST_LINK_LOCAL = "fe80::5055:aff:fe00:20f";
    private static final String GUEST_GLOBAL = "fd00:10:0:2:5055:aff:fe00:20f";
    private static final String GATEWAY_LINK_LOCAL = "fe80::5054:ff:fe12:3456";
    private static final byte[] GUEST_SOURCE_OPTION = Ipv6Fixtures.hex("0101 52550a00020f");

    private final GuestLan lan = new GuestLan(NetworkConfig.defaults());

    // Neighbour discovery

    @Test
    void aSolicitationForTheGatewayGetsASolicitedRouterAdvertisementBack() {
        sendSolicitation(GUEST_LINK_LOCAL, "fd00:10:0:2::2", GUEST_SOURCE_OPTION);

        Reply reply = onlyReply();
        assertThat(reply.destinationMac).isEqualTo(GUEST_MAC);
        assertThat(reply.source).isEqualTo("fd00:10:0:2::2");
        assertThat(reply.destination).isEqualTo(GUEST_LINK_LOCAL);
        assertThat(reply.hopLimit).isEqualTo(255);
        // Type 136, code 0; flags R, S, O; the target; its link-layer address, the gateway's MAC.
        assertThat(reply.messageHex).startsWith("8800").endsWith("e0000000" + "fd000010000000020000000000000002"
                + "0201525400123456");
        assertThat(counters()).containsExactly(Map.entry(Counter.GATEWAY_NEIGHBOR_ADVERTISEMENTS, 1L));
    }

    @Test
    void theLinkLocalAndDnsAddressesAreAnsweredTooAndTheFrameSourceServesWithoutAnOption() {
        sendSolicitation(GUEST_LINK_LOCAL, GATEWAY_LINK_LOCAL, new byte[0]);
        Reply linkLocal = onlyReply();
        assertThat(linkLocal.source).isEqualTo(GATEWAY_LINK_LOCAL);
        assertThat(linkLocal.destinationMac).as("the frame's source MAC").isEqualTo(GUEST_MAC);

        sendSolicitation(GUEST_GLOBAL, "fd00:10:0:2::3", GUEST_SOURCE_OPTION);
        Reply dns = onlyReply();
        assertThat(dns.source).isEqualTo("fd00:10:0:2::3");
        assertThat(dns.destination).isEqualTo(GUEST_GLOBAL);
        assertThat(counters()).containsExactly(Map.entry(Counter.GATEWAY_NEIGHBOR_ADVERTISEMENTS, 2L));
    }

    @Test
    void aDuplicateAddressProbeForTheGatewaysAddressIsToldToAllNodes() {
        sendSolicitation("::", "fd00:10:0:2::2", new byte[0]);

        Reply reply = onlyReply();
        assertThat(reply.destinationMac).isEqualTo(MacAddress.parse("33:33:00:00:00:01"));
        assertThat(reply.destination).isEqualTo("ff02::1");
        assertThat(reply.messageHex).as("R and O, not S").contains("a0000000fd00");
    }

    @Test
    void solicitationsForOtherAddressesAreTheGuestsBusiness() {
        sendSolicitation(GUEST_LINK_LOCAL, "fd00:10:0:2::15", GUEST_SOURCE_OPTION);
        sendSolicitation(GUEST_LINK_LOCAL, "fd00:10:0:3::2", GUEST_SOURCE_OPTION);

        assertThat(lan.takeReceived()).isEmpty();
        assertThat(counters()).isEmpty();
    }

    @Test
    void aSolicitationThatCouldHaveBeenForwardedIsDroppedAndCounted() {
        byte[] message = solicitation("fd00:10:0:2::2", GUEST_SOURCE_OPTION);
        lan.sendFromGuest(Ipv6Fixtures.frame(MacAddress.parse("33:33:ff:00:00:02"), GUEST_MAC, GUEST_LINK_LOCAL,
                "ff02::1:ff00:2", 254, 58, message));

        assertThat(lan.takeReceived()).isEmpty();
        assertThat(counters()).containsExactly(Map.entry(Counter.DROP_NDP_INVALID, 1L));
    }

    @Test
    void nothingIsSentBackToAMulticastSource() {
        byte[] echo = Ipv6Fixtures.hex("8000 0000 4242 0007");
        lan.sendFromGuest(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, "ff02::1", "fd00:10:0:2::2", 64, 58, echo));
        lan.sendFromGuest(Ipv6Fixtures.frame(MacAddress.parse("33:33:ff:00:00:02"), GUEST_MAC, "ff05::2",
                "ff02::1:ff00:2", 255, 58, solicitation("fd00:10:0:2::2", GUEST_SOURCE_OPTION)));

        assertThat(lan.takeReceived()).isEmpty();
        assertThat(counters()).as("only the one addressed to the gateway is counted")
                .containsExactly(Map.entry(Counter.DROP_MALFORMED, 1L));
    }

    // Router advertisements

    @Test
    void aRouterSolicitationIsAnsweredWithThePrefixTheMtuAndTheGatewayAsRouter() {
        lan.sendFromGuest(Ipv6Fixtures.frame(MacAddress.parse("33:33:00:00:00:02"), GUEST_MAC, GUEST_LINK_LOCAL,
                "ff02::2", 255, 58, Ipv6Fixtures.concat(Ipv6Fixtures.hex("8500 0000 0000 0000"),
                        GUEST_SOURCE_OPTION)));

        Reply reply = onlyReply();
        assertThat(reply.destinationMac).isEqualTo(GUEST_MAC);
        assertThat(reply.source).isEqualTo(GATEWAY_LINK_LOCAL);
        assertThat(reply.destination).isEqualTo(GUEST_LINK_LOCAL);
        assertThat(reply.hopLimit).isEqualTo(255);
        assertThat(reply.messageHex).isEqualTo(routerAdvertisementHex(reply.checksumHex));
        assertThat(counters()).containsExactly(Map.entry(Counter.GATEWAY_ROUTER_ADVERTISEMENTS, 1L));
    }

    @Test
    void aRouterSolicitationFromTheUnspecifiedAddressIsAnsweredToAllNodes() {
        lan.sendFromGuest(Ipv6Fixtures.frame(MacAddress.parse("33:33:00:00:00:02"), GUEST_MAC, "::", "ff02::2", 255,
                58, Ipv6Fixtures.hex("8500 0000 0000 0000")));

        Reply reply = onlyReply();
        assertThat(reply.destinationMac).isEqualTo(MacAddress.parse("33:33:00:00:00:01"));
        assertThat(reply.destination).isEqualTo("ff02::1");
    }

    @Test
    void theUnsolicitedAdvertisementGoesOutOnceAGuestSpeaksIpv6AndThenEveryInterval() {
        lan.gateway.everySecond(1_000_000_000L);
        assertThat(lan.takeReceived()).as("an IPv4-only LAN hears no advertisements").isEmpty();
        guestSpeaksIpv6(lan);

        long start = 5_000_000_000L;
        lan.gateway.everySecond(start);
        Reply first = onlyReply();
        assertThat(first.destination).isEqualTo("ff02::1");
        assertThat(first.messageHex).isEqualTo(routerAdvertisementHex(first.checksumHex));

        lan.gateway.everySecond(start + TimeUnit.SECONDS.toNanos(1));
        lan.gateway.everySecond(start + TimeUnit.SECONDS.toNanos(RouterAdvertiser.INTERVAL_SECONDS) - 1);
        assertThat(lan.takeReceived()).isEmpty();
        lan.gateway.everySecond(start + TimeUnit.SECONDS.toNanos(RouterAdvertiser.INTERVAL_SECONDS));
        assertThat(onlyReply().destination).isEqualTo("ff02::1");
        assertThat(counters()).containsExactly(Map.entry(Counter.GATEWAY_ROUTER_ADVERTISEMENTS, 2L));
    }

    @Test
    void aChosenPrefixAndALargerMtuAreAdvertised() {
        GuestLan other = new GuestLan(NetworkConfig.defaults().withMtu(1400).withIpv6Prefix(0x2001_0db8_0000_0007L));
        guestSpeaksIpv6(other);
        other.gateway.everySecond(0);
        List<byte[]> frames = other.takeReceived();
        assertThat(frames).hasSize(1);
        String hex = ByteBufUtil.hexDump(frames.get(0));
        assertThat(hex).contains("0501000000000578").contains("20010db8000000070000000000000000")
                .endsWith("1903000000000708" + "20010db8000000070000000000000003");
    }

    // Echo

    @Test
    void pingsToTheGatewaysAddressesAreAnsweredFromTheAddressAsked() {
        byte[] echo = Ipv6Fixtures.hex("8000 0000 4242 0007 0102 0304 0506");
        for (String gatewayAddress : new String[] {"fd00:10:0:2::2", GATEWAY_LINK_LOCAL, "fd00:10:0:2::3"}) {
            String from = Ipv6Address.isLinkLocal(Ipv6Address.parse(gatewayAddress)[0]) ? GUEST_LINK_LOCAL
                    : GUEST_GLOBAL;
            lan.sendFromGuest(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, from, gatewayAddress, 64, 58, echo));
            Reply reply = onlyReply();
            assertThat(reply.destinationMac).isEqualTo(GUEST_MAC);
            assertThat(reply.source).isEqualTo(gatewayAddress);
            assertThat(reply.destination).isEqualTo(from);
            assertThat(reply.messageHex).isEqualTo("8100" + reply.checksumHex + "424200070102030405 06".replace(" ", ""));
        }
        assertThat(counters()).containsExactly(Map.entry(Counter.GATEWAY_ECHO_REPLIES, 3L));
    }

    @Test
    void aPingWithABadChecksumIsCounted() {
        byte[] frame = Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_GLOBAL, "fd00:10:0:2::2", 64, 58,
                Ipv6Fixtures.hex("8000 0000 4242 0007"));
        frame[frame.length - 1] ^= 1;
        lan.sendFromGuest(frame);

        assertThat(lan.takeReceived()).isEmpty();
        assertThat(counters()).containsExactly(Map.entry(Counter.DROP_BAD_CHECKSUM, 1L));
    }

    // What the gateway does not handle

    @Test
    void extensionHeadersToTheGatewayAreCountedAndOverheardMulticastIsNotWhileAFragmentIsTaken() {
        byte[] hopByHop = Ipv6Fixtures.hex("3a00 0502 0000 0100 8000 0000 4242 0007");
        lan.sendFromGuest(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_GLOBAL, "fd00:10:0:2::2", 64, 0, hopByHop));
        byte[] fragment = Ipv6Fixtures.hex("3a00 0001 1234 5678 8000 0000 4242 0007");
        lan.sendFromGuest(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_GLOBAL, "fd00:10:0:2::2", 64, 44, fragment));
        // An MLDv2 report behind a hop-by-hop router alert, as Linux sends when it joins a group.
        lan.sendFromGuest(Ipv6Fixtures.frame(MacAddress.parse("33:33:00:00:00:16"), GUEST_MAC, GUEST_LINK_LOCAL,
                "ff02::16", 1, 0, Ipv6Fixtures.hex("3a00 0502 0000 0100 8f00 0000 0000 0000")));

        assertThat(lan.takeReceived()).as("the MLD report is flooded to no one else").isEmpty();
        assertThat(counters()).as("the first of a packet's fragments waits for the rest")
                .containsOnly(Map.entry(Counter.DROP_IPV6_EXTENSION_HEADER, 1L),
                        Map.entry(Counter.IP_FRAGMENTS_IN, 1L));
        lan.gateway.close();
    }

    @Test
    void ipv6BeyondTheLanIsAnsweredNoRouteQuotingThePacket() {
        byte[] request = Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_GLOBAL, "2001:db8::1", 64, 58,
                Ipv6Fixtures.hex("8000 0000 4242 0007 6162"));
        lan.sendFromGuest(request);

        Reply reply = onlyReply();
        assertThat(reply.destinationMac).isEqualTo(GUEST_MAC);
        assertThat(reply.source).isEqualTo("fd00:10:0:2::2");
        assertThat(reply.destination).isEqualTo(GUEST_GLOBAL);
        // Type 1 code 0, four unused bytes, then the whole packet as sent.
        assertThat(reply.messageHex).isEqualTo("0100" + reply.checksumHex + "00000000"
                + ByteBufUtil.hexDump(Arrays.copyOfRange(request, 14, request.length)));
        assertThat(counters()).containsExactly(Map.entry(Counter.GATEWAY_IPV6_NO_ROUTE, 1L));
    }

    @Test
    void withARouteToTheOutsideIpv6BeyondTheLanGoesThereAndItsRefusalIsAnswered() {
        GuestLan routed = new GuestLan(NetworkConfig.defaults());
        int[] code = {Icmpv6Packet.CODE_ADMIN_PROHIBITED};
        List<String> outside = new java.util.ArrayList<>();
        routed.gateway.routeIpv6ToOutside((ethernet, ip) -> {
            outside.add(Ipv6Address.format(ip.destinationHigh(), ip.destinationLow()));
            return code[0];
        });
        byte[] request = Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_GLOBAL, "2001:db8::1", 64, 58,
                Ipv6Fixtures.hex("8000 0000 4242 0007 6162"));
        routed.sendFromGuest(request);
        List<byte[]> replies = routed.takeReceived();
        assertThat(replies).hasSize(1);
        // Type 1 code 1 (administratively prohibited), from the gateway, quoting the packet.
        byte[] reply = replies.get(0);
        assertThat(reply[14 + 40] & 0xFF).isEqualTo(Icmpv6Packet.TYPE_DESTINATION_UNREACHABLE);
        assertThat(reply[14 + 41] & 0xFF).isEqualTo(Icmpv6Packet.CODE_ADMIN_PROHIBITED);
        assertThat(Arrays.copyOfRange(reply, 14 + 48, reply.length))
                .isEqualTo(Arrays.copyOfRange(request, 14, request.length));

        code[0] = Ipv6Outside.HANDLED;
        routed.sendFromGuest(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_GLOBAL, "2001:db8::2", 64, 17,
                Ipv6Fixtures.hex("1234 0035 0008 0000")));
        // Neither the LAN's own prefix nor link-local addresses are routed.
        routed.sendFromGuest(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_GLOBAL, "fd00:10:0:2::16", 64, 17,
                Ipv6Fixtures.hex("1234 0035 0008 0000")));
        routed.sendFromGuest(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_LINK_LOCAL, "fe80::1", 64, 17,
                Ipv6Fixtures.hex("1234 0035 0008 0000")));
        assertThat(routed.takeReceived()).as("carried: nothing to answer").isEmpty();
        assertThat(outside).containsExactly("2001:db8::1", "2001:db8::2");
        assertThat(routed.counters.get(Counter.GATEWAY_IPV6_PROHIBITED)).isEqualTo(1);
        assertThat(routed.counters.get(Counter.GATEWAY_IPV6_NO_ROUTE)).isZero();
    }

    @Test
    void aLinkLocalSenderIsAnsweredFromTheLinkLocalAddressAndALargePacketIsQuotedWithinTheMtu() {
        byte[] udp = new byte[1400];
        udp[4] = (byte) (1400 >>> 8);
        udp[5] = (byte) (1400 & 0xFF);
        lan.sendFromGuest(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_LINK_LOCAL, "2606:4700::1111", 64, 17,
                udp));

        Reply reply = onlyReply();
        assertThat(reply.source).isEqualTo(GATEWAY_LINK_LOCAL);
        assertThat(40 + reply.messageHex.length() / 2).as("the LAN MTU").isEqualTo(NetworkConfig.DEFAULT_MTU);
    }

    @Test
    void noErrorAnswersAnErrorAnUnspecifiedSourceAnotherGuestsAddressOrAHiddenPayload() {
        lan.sendFromGuest(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_GLOBAL, "2001:db8::1", 64, 58,
                Ipv6Fixtures.hex("0100 0000 0000 0000")));
        lan.sendFromGuest(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, "::", "2001:db8::1", 64, 17,
                Ipv6Fixtures.hex("1234 0035 0008 0000")));
        lan.sendFromGuest(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_GLOBAL, "fd00:10:0:2::16", 64, 17,
                Ipv6Fixtures.hex("1234 0035 0008 0000")));
        lan.sendFromGuest(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_GLOBAL, "2001:db8::1", 64, 44,
                Ipv6Fixtures.hex("1100 0001 1234 5678 1234 0035 0008 0000")));

        assertThat(lan.takeReceived()).isEmpty();
        assertThat(counters()).as("the first fragment of a packet waits for the rest, unanswered")
                .containsOnly(Map.entry(Counter.GATEWAY_UNHANDLED, 3L), Map.entry(Counter.IP_FRAGMENTS_IN, 1L));
        lan.gateway.close();
    }

    @Test
    void atMostAHundredErrorsASecondLeave() {
        byte[] request = Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_GLOBAL, "2001:db8::1", 64, 17,
                Ipv6Fixtures.hex("1234 0035 0008 0000"));
        for (int i = 0; i < 105; i++) {
            lan.sendFromGuest(request);
        }
        assertThat(lan.takeReceived()).hasSize(Ipv6Unreachable.PER_SECOND);
        lan.gateway.everySecond(0);
        lan.takeReceived();
        lan.sendFromGuest(request);
        assertThat(lan.takeReceived()).as("the budget is renewed every second").hasSize(1);
        assertThat(counters()).contains(Map.entry(Counter.GATEWAY_IPV6_NO_ROUTE, 101L),
                Map.entry(Counter.DROP_ICMPV6_ERROR_RATE, 5L));
    }

    @Test
    void aTruncatedPacketIsCountedMalformed() {
        byte[] truncated = Arrays.copyOf(Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, GUEST_GLOBAL, "fd00:10:0:2::2",
                64, 58, Ipv6Fixtures.hex("8000 0000 4242 0007")), 14 + 39);
        lan.sendFromGuest(truncated);

        assertThat(lan.takeReceived()).isEmpty();
        assertThat(counters()).containsExactly(Map.entry(Counter.DROP_MALFORMED, 1L));
    }

    /** The advertisement the gateway sends with the default configuration, for a given checksum. */
    private static String routerAdvertisementHex(String checksumHex) {
        return "8600" + checksumHex + "40400708" + "00000000" + "00000000"
                + "0101525400123456"
                + "0501000000000500"
                + "0304" + "40c0" + "00015180" + "00003840" + "00000000"
                + "fd000010000000020000000000000000"
                + "1903" + "0000" + "00000708" + "fd000010000000020000000000000003";
    }

    private static byte[] solicitation(String target, byte[] options) {
        return Ipv6Fixtures.concat(Ipv6Fixtures.hex("8700 0000 0000 0000"), Ipv6Fixtures.address(target), options);
    }

    private void sendSolicitation(String source, String target, byte[] options) {
        long[] parsed = Ipv6Address.parse(target);
        long group = Ipv6Address.solicitedNodeLow(parsed[1]);
        lan.sendFromGuest(Ipv6Fixtures.frame(Ipv6Address.multicastMac(group), GUEST_MAC, source,
                Ipv6Address.format(Ipv6Address.LINK_SCOPE_MULTICAST_HIGH, group), 255, 58,
                solicitation(target, options)));
    }

    /** A frame the gateway sent, parsed and checked: Ethernet from the gateway, IPv6, ICMPv6 that verifies. */
    private record Reply(long destinationMac, String source, String destination, int hopLimit, String messageHex,
            String checksumHex) {
    }

    private Reply onlyReply() {
        List<byte[]> frames = lan.takeReceived();
        assertThat(frames).hasSize(1);
        ByteBuf buf = Unpooled.wrappedBuffer(frames.get(0));
        EthernetFrame ethernet = new EthernetFrame();
        assertThat(ethernet.wrap(buf)).isEqualTo(ParseResult.OK);
        assertThat(ethernet.source()).isEqualTo(GATEWAY_MAC);
        assertThat(ethernet.etherType()).isEqualTo(EthernetFrame.TYPE_IPV6);
        Ipv6Packet ip = new Ipv6Packet();
        assertThat(ip.wrap(buf, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
        assertThat(ip.payloadOffset() + ip.payloadLength()).as("no bytes after the packet").isEqualTo(buf.capacity());
        assertThat(ip.nextHeader()).isEqualTo(Ipv6Packet.NEXT_HEADER_ICMPV6);
        Icmpv6Packet icmp = new Icmpv6Packet();
        assertThat(icmp.wrap(ip)).as("the checksum verifies").isEqualTo(ParseResult.OK);
        String source = Ipv6Address.format(ip.sourceHigh(), ip.sourceLow());
        String destination = Ipv6Address.format(ip.destinationHigh(), ip.destinationLow());
        byte[] message = new byte[ip.payloadLength()];
        buf.getBytes(ip.payloadOffset(), message);
        int checksum = icmp.checksum();
        message[2] = 0;
        message[3] = 0;
        int reference = Ipv6Fixtures.icmpv6Checksum(source, destination, message);
        assertThat(checksum == reference || (reference == 0 && checksum == 0xFFFF))
                .as("checksum %04x, reference %04x", checksum, reference).isTrue();
        message[2] = (byte) (checksum >>> 8);
        message[3] = (byte) checksum;
        return new Reply(ethernet.destination(), source, destination, ip.hopLimit(), ByteBufUtil.hexDump(message),
                String.format("%04x", checksum));
    }

    private Map<Counter, Long> counters() {
        return lan.nonZeroCountersBeyondTraffic();
    }

    /** A guest's MLD report, overheard by the gateway: the LAN now has IPv6 (no answer, nothing counted). */
    private static void guestSpeaksIpv6(GuestLan guestLan) {
        guestLan.sendFromGuest(Ipv6Fixtures.frame(MacAddress.parse("33:33:00:00:00:16"), GUEST_MAC, GUEST_LINK_LOCAL,
                "ff02::16", 1, 58, Ipv6Fixtures.hex("8f00 0000 0000 0001 0400 0000 ff02 0000 0000 0000 0000 0001 ff00 000f")));
        assertThat(guestLan.takeReceived()).isEmpty();
    }
}
