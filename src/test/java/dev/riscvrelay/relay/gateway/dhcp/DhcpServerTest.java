package dev.riscvrelay.relay.gateway.dhcp;

import static dev.riscvrelay.relay.gateway.dhcp.DhcpFrames.clientFrame;
import static dev.riscvrelay.relay.gateway.dhcp.DhcpFrames.options;
import static dev.riscvrelay.relay.gateway.dhcp.DhcpFrames.parseReply;
import static dev.riscvrelay.relay.wire.DhcpMessage.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.gateway.GuestLan;
import dev.riscvrelay.relay.gateway.dhcp.DhcpFrames.Reply;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.HexFixtures;
import dev.riscvrelay.relay.wire.Ipv4Address;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DhcpServerTest {

    private static final int GATEWAY = Ipv4Address.parse("10.0.2.2");
    private static final int ADDRESS_15 = Ipv4Address.parse("10.0.2.15");
    private static final int ADDRESS_16 = Ipv4Address.parse("10.0.2.16");
    private static final int ADDRESS_21 = Ipv4Address.parse("10.0.2.21");
    private static final long CAPTURED_MAC = 0x5255_0a00_020fL;
    private static final long OTHER_MAC = 0x5255_0a00_0299L;
    private static final long BROADCAST_MAC = 0xFFFF_FFFF_FFFFL;
    private static final int ANY = 0;
    private static final int LIMITED_BROADCAST = -1;

    private GuestLan lan;
    private DhcpServer server;

    private void start(NetworkConfig config) {
        server = new DhcpServer(config, () -> lan.nanoTime[0]);
        lan = new GuestLan(config, server);
    }

    /** The captured clients asked for 10.0.2.21 (what dnsmasq gave them), so a pool starting there fits them. */
    private void startWithPoolAt21(int size) {
        start(NetworkConfig.defaults().withPool(ADDRESS_21, size));
    }

    private Reply onlyReply() {
        List<byte[]> frames = lan.takeReceived();
        assertThat(frames).hasSize(1);
        return parseReply(frames.get(0));
    }

    private void assertNoReply() {
        assertThat(lan.takeReceived()).isEmpty();
    }

    private byte[] discover(long mac, Object... extraOptions) {
        Object[] all = new Object[extraOptions.length + 2];
        all[0] = OPTION_MESSAGE_TYPE;
        all[1] = DISCOVER;
        System.arraycopy(extraOptions, 0, all, 2, extraOptions.length);
        return clientFrame(mac, ANY, LIMITED_BROADCAST, 0x1234, 0, 0, options(all));
    }

    private byte[] request(long mac, int ciaddr, int destination, Object... options) {
        Object[] all = new Object[options.length + 2];
        all[0] = OPTION_MESSAGE_TYPE;
        all[1] = REQUEST;
        System.arraycopy(options, 0, all, 2, options.length);
        return clientFrame(mac, ciaddr, destination, 0x5678, 0, ciaddr, options(all));
    }

    @Test
    void udhcpcDiscoverGetsAnOfferWithRouterDnsMaskMtuAndLeaseTimes() {
        start(NetworkConfig.defaults());
        lan.sendFromGuest(HexFixtures.bytes("dhcp-discover-udhcpc"));

        Reply offer = onlyReply();
        assertThat(offer.messageType()).isEqualTo(OFFER);
        assertThat(offer.op()).isEqualTo(OP_BOOTREPLY);
        assertThat(offer.xid()).isEqualTo(0x59927146);
        assertThat(offer.yiaddr()).isEqualTo(ADDRESS_15);
        assertThat(offer.chaddr()).isEqualTo(CAPTURED_MAC);
        // Broadcast flag clear, no ciaddr: unicast to yiaddr at chaddr (RFC 2131 section 4.1).
        assertThat(offer.destinationMac()).isEqualTo(CAPTURED_MAC);
        assertThat(offer.destinationIp()).isEqualTo(ADDRESS_15);
        assertThat(offer.sourceIp()).isEqualTo(GATEWAY);
        assertThat(offer.sourcePort()).isEqualTo(67);
        assertThat(offer.destinationPort()).isEqualTo(68);
        assertThat(offer.intOption(OPTION_SERVER_IDENTIFIER)).isEqualTo(GATEWAY);
        assertThat(offer.intOption(OPTION_ROUTER)).isEqualTo(GATEWAY);
        assertThat(offer.intOption(OPTION_DNS_SERVERS)).isEqualTo(Ipv4Address.parse("10.0.2.3"));
        assertThat(offer.intOption(OPTION_SUBNET_MASK)).isEqualTo(Ipv4Address.parse("255.255.255.0"));
        assertThat(offer.intOption(OPTION_BROADCAST_ADDRESS)).isEqualTo(Ipv4Address.parse("10.0.2.255"));
        assertThat(offer.shortOption(OPTION_INTERFACE_MTU)).isEqualTo(1185);
        assertThat(offer.intOption(OPTION_LEASE_TIME)).isEqualTo(3600);
        assertThat(offer.intOption(OPTION_RENEWAL_TIME)).isEqualTo(1800);
        assertThat(offer.intOption(OPTION_REBINDING_TIME)).isEqualTo(3150);
        // RFC 1542: padded to a 300-byte BOOTP message, like the captured dnsmasq offer (342-byte frame).
        assertThat(offer.dhcpLength()).isEqualTo(MIN_BOOTP_LENGTH);
        assertThat(offer.frameLength()).isEqualTo(HexFixtures.bytes("dhcp-offer-dnsmasq").length);
        assertThat(lan.counters.get(Counter.DHCP_OFFERS)).isEqualTo(1);
    }

    @Test
    void udhcpcAndDhclientCompleteDiscoverOfferRequestAck() {
        for (String client : List.of("udhcpc", "dhclient")) {
            startWithPoolAt21(4);
            lan.sendFromGuest(HexFixtures.bytes("dhcp-discover-" + client));
            assertThat(onlyReply().yiaddr()).as(client).isEqualTo(ADDRESS_21);

            lan.sendFromGuest(HexFixtures.bytes("dhcp-request-" + client + "-selecting"));
            Reply ack = onlyReply();
            assertThat(ack.messageType()).as(client).isEqualTo(ACK);
            assertThat(ack.yiaddr()).isEqualTo(ADDRESS_21);
            assertThat(ack.ciaddr()).isZero();
            assertThat(ack.destinationMac()).isEqualTo(CAPTURED_MAC);
            assertThat(ack.destinationIp()).isEqualTo(ADDRESS_21);
            assertThat(ack.intOption(OPTION_LEASE_TIME)).isEqualTo(3600);
            assertThat(ack.shortOption(OPTION_INTERFACE_MTU)).isEqualTo(1185);
            assertThat(server.boundLeases()).isEqualTo(1);
        }
    }

    @Test
    void theSameClientGetsTheSameAddressAndAnotherClientADifferentOne() {
        start(NetworkConfig.defaults());
        lan.sendFromGuest(HexFixtures.bytes("dhcp-discover-dhclient"));
        int first = onlyReply().yiaddr();
        lan.sendFromGuest(HexFixtures.bytes("dhcp-discover-dhclient"));
        assertThat(onlyReply().yiaddr()).isEqualTo(first);

        lan.sendFromGuest(discover(OTHER_MAC));
        assertThat(onlyReply().yiaddr()).isEqualTo(ADDRESS_16);

        // udhcpc sends client identifier 01:MAC: another identity than dhclient's bare chaddr, same address rule.
        lan.sendFromGuest(HexFixtures.bytes("dhcp-discover-udhcpc"));
        int byClientId = onlyReply().yiaddr();
        lan.sendFromGuest(HexFixtures.bytes("dhcp-discover-udhcpc"));
        assertThat(onlyReply().yiaddr()).isEqualTo(byClientId).isNotIn(first, ADDRESS_16);
    }

    @Test
    void aClientIdentifierKeepsTheAddressAcrossAChangedMac() {
        start(NetworkConfig.defaults());
        byte[] clientId = {(byte) 0xFF, 1, 2, 3, 4, 5, 6, 7, 8};
        lan.sendFromGuest(discover(CAPTURED_MAC, OPTION_CLIENT_IDENTIFIER, clientId));
        int address = onlyReply().yiaddr();
        lan.sendFromGuest(discover(OTHER_MAC, OPTION_CLIENT_IDENTIFIER, clientId));
        Reply second = onlyReply();
        assertThat(second.yiaddr()).isEqualTo(address);
        assertThat(second.destinationMac()).isEqualTo(OTHER_MAC);
    }

    @Test
    void broadcastFlagMakesRepliesBroadcast() {
        start(NetworkConfig.defaults());
        lan.sendFromGuest(clientFrame(CAPTURED_MAC, ANY, LIMITED_BROADCAST, 7, FLAG_BROADCAST, 0,
                options(OPTION_MESSAGE_TYPE, DISCOVER)));
        Reply offer = onlyReply();
        assertThat(offer.destinationMac()).isEqualTo(BROADCAST_MAC);
        assertThat(offer.destinationIp()).isEqualTo(LIMITED_BROADCAST);
        assertThat(offer.flags()).isEqualTo(FLAG_BROADCAST);
    }

    @Test
    void renewalUnicastToTheGatewayIsAckedToCiaddr() {
        start(NetworkConfig.defaults());
        lan.sendFromGuest(request(CAPTURED_MAC, ANY, LIMITED_BROADCAST, OPTION_REQUESTED_ADDRESS, ADDRESS_15));
        assertThat(onlyReply().messageType()).isEqualTo(ACK);

        lan.nanoTime[0] += Duration.ofMinutes(40).toNanos();
        lan.sendFromGuest(request(CAPTURED_MAC, ADDRESS_15, GATEWAY));
        Reply ack = onlyReply();
        assertThat(ack.messageType()).isEqualTo(ACK);
        assertThat(ack.ciaddr()).isEqualTo(ADDRESS_15);
        assertThat(ack.yiaddr()).isEqualTo(ADDRESS_15);
        assertThat(ack.destinationIp()).isEqualTo(ADDRESS_15);
        assertThat(ack.destinationMac()).isEqualTo(CAPTURED_MAC);

        // Renewed at 40 min, so 59 min later (99 min after the first ACK) the lease still holds the address.
        lan.nanoTime[0] += Duration.ofMinutes(59).toNanos();
        lan.sendFromGuest(request(OTHER_MAC, ANY, LIMITED_BROADCAST, OPTION_REQUESTED_ADDRESS, ADDRESS_15));
        assertThat(onlyReply().messageType()).isEqualTo(NAK);
    }

    @Test
    void wrongAddressesAreNakedBroadcast() {
        start(NetworkConfig.defaults());
        lan.sendFromGuest(request(CAPTURED_MAC, ANY, LIMITED_BROADCAST, OPTION_REQUESTED_ADDRESS, ADDRESS_15));
        assertThat(onlyReply().messageType()).isEqualTo(ACK);

        // INIT-REBOOT on another network (RFC 2131 section 4.3.2).
        lan.sendFromGuest(request(OTHER_MAC, ANY, LIMITED_BROADCAST, OPTION_REQUESTED_ADDRESS,
                Ipv4Address.parse("192.168.1.50")));
        Reply wrongNetwork = onlyReply();
        assertThat(wrongNetwork.messageType()).isEqualTo(NAK);
        assertThat(wrongNetwork.yiaddr()).isZero();
        assertThat(wrongNetwork.destinationMac()).isEqualTo(BROADCAST_MAC);
        assertThat(wrongNetwork.destinationIp()).isEqualTo(LIMITED_BROADCAST);
        assertThat(wrongNetwork.options()).containsOnlyKeys(OPTION_MESSAGE_TYPE, OPTION_SERVER_IDENTIFIER);

        // SELECTING with our server id for an address someone else holds.
        lan.sendFromGuest(request(OTHER_MAC, ANY, LIMITED_BROADCAST, OPTION_SERVER_IDENTIFIER, GATEWAY,
                OPTION_REQUESTED_ADDRESS, ADDRESS_15));
        assertThat(onlyReply().messageType()).isEqualTo(NAK);

        // The gateway's own address is outside the pool.
        lan.sendFromGuest(request(OTHER_MAC, ANY, LIMITED_BROADCAST, OPTION_REQUESTED_ADDRESS, GATEWAY));
        assertThat(onlyReply().messageType()).isEqualTo(NAK);
        assertThat(lan.counters.get(Counter.DHCP_NAKS)).isEqualTo(3);
    }

    @Test
    void aRequestNamingAnotherServerFreesOurOfferSilently() {
        start(NetworkConfig.defaults().withPool(ADDRESS_15, 1));
        lan.sendFromGuest(discover(CAPTURED_MAC));
        assertThat(onlyReply().yiaddr()).isEqualTo(ADDRESS_15);
        lan.sendFromGuest(discover(OTHER_MAC));
        assertNoReply();

        lan.sendFromGuest(request(CAPTURED_MAC, ANY, LIMITED_BROADCAST, OPTION_SERVER_IDENTIFIER,
                Ipv4Address.parse("10.0.2.9"), OPTION_REQUESTED_ADDRESS, Ipv4Address.parse("10.0.2.77")));
        assertNoReply();
        assertThat(lan.counters.get(Counter.DHCP_IGNORED)).isEqualTo(1);

        lan.sendFromGuest(discover(OTHER_MAC));
        assertThat(onlyReply().yiaddr()).isEqualTo(ADDRESS_15);
    }

    @Test
    void anExhaustedPoolOffersNothingAndIsCounted() {
        start(NetworkConfig.defaults().withPool(ADDRESS_15, 2));
        lan.sendFromGuest(discover(CAPTURED_MAC));
        lan.sendFromGuest(discover(OTHER_MAC));
        assertThat(lan.takeReceived()).hasSize(2);

        lan.sendFromGuest(discover(0x5255_0a00_0333L));
        assertNoReply();
        assertThat(lan.counters.get(Counter.DHCP_POOL_EXHAUSTED)).isEqualTo(1);

        // Offers are held only for the offer hold time; then the third client gets one.
        lan.nanoTime[0] += NetworkConfig.DEFAULT_OFFER_HOLD_TIME.toNanos();
        lan.sendFromGuest(discover(0x5255_0a00_0333L));
        assertThat(onlyReply().yiaddr()).isIn(ADDRESS_15, ADDRESS_16);
        assertThat(lan.counters.get(Counter.DHCP_LEASES_EXPIRED)).isEqualTo(2);
    }

    @Test
    void anAddressAnotherMacWasSeenUsingGoesToANewClientOnlyWhenNoOtherIsFree() {
        start(NetworkConfig.defaults().withPool(ADDRESS_15, 3));
        long staticHost = 0x5255_0a00_0444L;
        Map<Integer, Long> seen = new HashMap<>();
        server.watch(address -> seen.getOrDefault(address, AddressUsers.NONE_SEEN));
        seen.put(ADDRESS_15, staticHost);

        lan.sendFromGuest(discover(CAPTURED_MAC));
        assertThat(onlyReply().yiaddr()).as("the static host's address passed over").isEqualTo(ADDRESS_16);
        assertThat(lan.counters.get(Counter.DHCP_PASSED_OVER_IN_USE)).isEqualTo(1);
        lan.sendFromGuest(discover(OTHER_MAC, OPTION_REQUESTED_ADDRESS, ADDRESS_15));
        assertThat(onlyReply().yiaddr()).as("asked for by name, too").isEqualTo(Ipv4Address.parse("10.0.2.17"));

        // The sighting may be of a host long gone: with no other address free, the pool still serves.
        assertThat(lan.counters.get(Counter.DHCP_PASSED_OVER_IN_USE)).isEqualTo(2);
        lan.sendFromGuest(discover(0x5255_0a00_0333L));
        assertThat(onlyReply().yiaddr()).isEqualTo(ADDRESS_15);
        assertThat(lan.counters.get(Counter.DHCP_PASSED_OVER_IN_USE)).as("given, not passed over").isEqualTo(2);
    }

    @Test
    void theMacSeenUsingAnAddressMayLeaseIt() {
        start(NetworkConfig.defaults().withPool(ADDRESS_15, 3));
        server.watch(address -> address == ADDRESS_15 ? OTHER_MAC : AddressUsers.NONE_SEEN);
        lan.sendFromGuest(discover(OTHER_MAC));
        assertThat(onlyReply().yiaddr()).isEqualTo(ADDRESS_15);
        assertThat(lan.counters.get(Counter.DHCP_PASSED_OVER_IN_USE)).isZero();
    }

    @Test
    void leasesExpireOnTheInjectedClockAndGoToTheNextClient() {
        start(NetworkConfig.defaults().withPool(ADDRESS_15, 1).withLeaseTime(Duration.ofMinutes(10)));
        lan.sendFromGuest(request(CAPTURED_MAC, ANY, LIMITED_BROADCAST, OPTION_REQUESTED_ADDRESS, ADDRESS_15));
        assertThat(onlyReply().intOption(OPTION_LEASE_TIME)).isEqualTo(600);

        lan.nanoTime[0] += Duration.ofMinutes(10).toNanos() - 1;
        lan.sendFromGuest(discover(OTHER_MAC));
        assertNoReply();

        lan.nanoTime[0] += 1;
        lan.sendFromGuest(discover(OTHER_MAC));
        assertThat(onlyReply().yiaddr()).isEqualTo(ADDRESS_15);
        assertThat(lan.counters.get(Counter.DHCP_LEASES_EXPIRED)).isEqualTo(1);
        assertThat(server.boundLeases()).isZero();
    }

    @Test
    void dhclientReleaseFreesTheLease() {
        startWithPoolAt21(1);
        lan.sendFromGuest(HexFixtures.bytes("dhcp-discover-dhclient"));
        lan.sendFromGuest(HexFixtures.bytes("dhcp-request-dhclient-selecting"));
        assertThat(lan.takeReceived()).hasSize(2);
        assertThat(server.boundLeases()).isEqualTo(1);

        lan.sendFromGuest(HexFixtures.bytes("dhcp-release-dhclient"));
        assertNoReply();
        assertThat(server.boundLeases()).isZero();
        assertThat(lan.counters.get(Counter.DHCP_RELEASES)).isEqualTo(1);

        lan.sendFromGuest(discover(OTHER_MAC));
        assertThat(onlyReply().yiaddr()).isEqualTo(ADDRESS_21);
    }

    @Test
    void aDeclinedAddressIsNotOfferedAgain() {
        start(NetworkConfig.defaults().withPool(ADDRESS_15, 2));
        lan.sendFromGuest(discover(CAPTURED_MAC));
        assertThat(onlyReply().yiaddr()).isEqualTo(ADDRESS_15);
        lan.sendFromGuest(clientFrame(CAPTURED_MAC, ANY, LIMITED_BROADCAST, 9, 0, 0, options(OPTION_MESSAGE_TYPE,
                DECLINE, OPTION_SERVER_IDENTIFIER, GATEWAY, OPTION_REQUESTED_ADDRESS, ADDRESS_15)));
        assertNoReply();
        assertThat(lan.counters.get(Counter.DHCP_DECLINES)).isEqualTo(1);

        lan.sendFromGuest(discover(CAPTURED_MAC));
        assertThat(onlyReply().yiaddr()).isEqualTo(ADDRESS_16);
        lan.sendFromGuest(discover(OTHER_MAC));
        assertNoReply();
    }

    @Test
    void informIsAnsweredToCiaddrWithoutALease() {
        start(NetworkConfig.defaults());
        int manual = Ipv4Address.parse("10.0.2.5");
        lan.sendFromGuest(clientFrame(CAPTURED_MAC, manual, GATEWAY, 11, 0, manual,
                options(OPTION_MESSAGE_TYPE, INFORM)));
        Reply ack = onlyReply();
        assertThat(ack.messageType()).isEqualTo(ACK);
        assertThat(ack.destinationIp()).isEqualTo(manual);
        assertThat(ack.ciaddr()).isEqualTo(manual);
        assertThat(ack.yiaddr()).isZero();
        // RFC 2131 section 4.3.5: no lease time in an answer to INFORM.
        assertThat(ack.options()).doesNotContainKeys(OPTION_LEASE_TIME, OPTION_RENEWAL_TIME, OPTION_REBINDING_TIME);
        assertThat(ack.intOption(OPTION_DNS_SERVERS)).isEqualTo(Ipv4Address.parse("10.0.2.3"));
        assertThat(lan.counters.get(Counter.DHCP_INFORMS)).isEqualTo(1);
    }

    @Test
    void malformedMessagesAreDroppedAndCounted() {
        start(NetworkConfig.defaults());
        byte[] captured = HexFixtures.bytes("dhcp-discover-udhcpc");
        int dhcp = 42;

        byte[] badCookie = captured.clone();
        badCookie[dhcp + 236] = 0x64;
        byte[] hlen7 = captured.clone();
        hlen7[dhcp + 2] = 7;
        byte[] overrun = captured.clone();
        // The first option after the cookie is 53 (type); claim 250 bytes of data.
        assertThat(overrun[dhcp + 240]).isEqualTo((byte) OPTION_MESSAGE_TYPE);
        overrun[dhcp + 241] = (byte) 250;
        byte[] badTypeLength = captured.clone();
        badTypeLength[dhcp + 241] = 2;
        for (byte[] frame : List.of(badCookie, hlen7, overrun, badTypeLength)) {
            lan.sendFromGuest(DhcpFrames.withoutUdpChecksum(frame));
        }
        // Truncated: a DHCP payload of 200 bytes, UDP and IP lengths consistent with it.
        lan.sendFromGuest(truncated(captured, 200));
        assertNoReply();
        assertThat(lan.counters.get(Counter.DROP_DHCP_MALFORMED)).isEqualTo(5);

        byte[] badChecksum = captured.clone();
        badChecksum[dhcp + 4] ^= 1;
        lan.sendFromGuest(badChecksum);
        assertNoReply();
        assertThat(lan.counters.get(Counter.DROP_BAD_CHECKSUM)).isEqualTo(1);
        assertThat(lan.counters.get(Counter.DHCP_OFFERS)).isZero();
    }

    private static byte[] truncated(byte[] frame, int dhcpLength) {
        byte[] copy = java.util.Arrays.copyOf(frame, 42 + dhcpLength);
        int ipLength = 28 + dhcpLength;
        copy[16] = (byte) (ipLength >>> 8);
        copy[17] = (byte) ipLength;
        copy[24] = 0;
        copy[25] = 0;
        io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(copy);
        int checksum = dev.riscvrelay.relay.wire.Checksums.internetChecksum(buf, 14, 20);
        copy[24] = (byte) (checksum >>> 8);
        copy[25] = (byte) checksum;
        int udpLength = 8 + dhcpLength;
        copy[38] = (byte) (udpLength >>> 8);
        copy[39] = (byte) udpLength;
        return DhcpFrames.withoutUdpChecksum(copy);
    }

    @Test
    void bootRepliesRelayedMessagesAndOtherPortsAreNotAnswered() {
        start(NetworkConfig.defaults());
        byte[] offer = HexFixtures.bytes("dhcp-offer-dnsmasq");
        lan.sendFromGuest(offer);
        assertNoReply();

        byte[] relayed = HexFixtures.bytes("dhcp-discover-udhcpc").clone();
        relayed[42 + 24] = 10;
        lan.sendFromGuest(DhcpFrames.withoutUdpChecksum(relayed));
        assertNoReply();
        assertThat(lan.counters.get(Counter.DHCP_IGNORED)).isEqualTo(1);
        assertThat(lan.counters.get(Counter.DROP_DHCP_MALFORMED)).isZero();
    }

    @Test
    void configRefusesPoolsOutsideTheNetworkOrOverTheGateway() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> NetworkConfig.defaults().withPool(Ipv4Address.parse("10.0.2.250"), 10))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> NetworkConfig.defaults().withPool(Ipv4Address.parse("10.0.2.1"), 5))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> NetworkConfig.defaults().withMtu(500))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
