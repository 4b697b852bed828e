package dev.riscvrelay.relay.access;

import static dev.riscvrelay.relay.wire.Ipv6Fixtures.concat;
import static dev.riscvrelay.relay.wire.Ipv6Fixtures.frame;
import static dev.riscvrelay.relay.wire.Ipv6Fixtures.hex;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.Ipv6Fixtures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** The IPv6 source rules of {@link IngressGuard}, one test per rule, two sessions sharing one network's claims. */
class IngressGuardIpv6Test {

    private static final long MAC_1 = 0x02_00_00_00_00_01L;
    private static final long MAC_2 = 0x02_00_00_00_00_02L;
    private static final long ALL_NODES_MAC = 0x33_33_00_00_00_01L;
    private static final long GATEWAY_MAC = NetworkConfig.defaults().gatewayMac();
    /** The default LAN prefix fd00:10:0:2::/64; MAC_1's SLAAC address in it and its link-local address. */
    private static final String PREFIX = "fd00:10:0:2:";
    private static final String SLAAC_1 = PREFIX + ":ff:fe00:1";
    private static final String LINK_LOCAL_1 = "fe80::ff:fe00:1";
    private static final String SLAAC_2 = PREFIX + ":ff:fe00:2";
    private static final String PRIVATE = PREFIX + "9a3c:51e2:7b10:4d6f";
    private static final String GATEWAY = PREFIX + ":2";
    private static final byte[] ECHO = hex("80 00 0000 1234 0001 6869");

    private final Counters counters = new Counters();
    private final Ipv6AddressOwners<IngressGuard.Ipv6Claims> owners = new Ipv6AddressOwners<>(NetworkConfig.defaults());
    private final IngressGuard first = guard();
    private final IngressGuard second = guard();

    private IngressGuard guard() {
        IngressGuard.Ipv6Claims[] self = new IngressGuard.Ipv6Claims[1];
        self[0] = new IngressGuard.Ipv6Claims() {
            @Override
            public boolean claim(long high, long low) {
                return owners.claim(high, low, self[0]);
            }

            @Override
            public void release(long high, long low) {
                owners.release(high, low, self[0]);
            }
        };
        return new IngressGuard(SessionLimits.defaults(), IngressGuard.Leases.NONE, counters, () -> 1_000_000_000L,
                IngressGuard.MacBindings.NONE, self[0]);
    }

    private static ByteBuf echo(long mac, String source) {
        return Unpooled.wrappedBuffer(frame(GATEWAY_MAC, mac, source, GATEWAY, 64, 58, ECHO));
    }

    /** A neighbour solicitation or advertisement ({@code type} 135 or 136) for {@code target}. */
    private static byte[] neighbour(int type, String target) {
        return concat(new byte[] {(byte) type, 0, 0, 0, 0, 0, 0, 0}, Ipv6Fixtures.address(target));
    }

    private long spoofed() {
        return counters.get(Counter.DROP_SPOOFED_IPV6);
    }

    @Test
    void addressesDerivedFromTheFramesMacPassUnderAnyPrefix() {
        assertThat(first.admit(echo(MAC_1, SLAAC_1))).isTrue();
        assertThat(first.admit(echo(MAC_1, LINK_LOCAL_1))).isTrue();
        assertThat(first.admit(echo(MAC_1, "2001:db8:7::ff:fe00:1"))).isTrue();
        assertThat(first.ipv6ClaimCount()).as("derived addresses need no claim").isZero();
        assertThat(spoofed()).isZero();
    }

    @Test
    void anotherMacsDerivedAddressIsNeverClaimableEvenBeforeThatMacJoins() {
        assertThat(first.admit(echo(MAC_1, SLAAC_2))).isFalse();
        assertThat(first.admit(echo(MAC_1, "fe80::ff:fe00:2"))).isFalse();
        assertThat(spoofed()).isEqualTo(2);
        assertThat(second.admit(echo(MAC_2, SLAAC_2))).as("its own MAC's, still").isTrue();
    }

    @Test
    void otherAddressesBelongToTheFirstSessionThatUsesThem() {
        assertThat(first.admit(echo(MAC_1, PRIVATE))).isTrue();
        assertThat(first.admit(echo(MAC_1, PRIVATE))).isTrue();
        assertThat(first.ipv6ClaimCount()).isEqualTo(1);
        assertThat(second.admit(echo(MAC_2, PRIVATE))).as("held by the first session").isFalse();
        assertThat(spoofed()).isEqualTo(1);
        // A stable-privacy link-local address (RFC 7217) is claimed the same way.
        assertThat(second.admit(echo(MAC_2, "fe80::5c1d:33a0:9e4f:12b7"))).isTrue();
        assertThat(first.admit(echo(MAC_1, "fe80::5c1d:33a0:9e4f:12b7"))).isFalse();
    }

    @Test
    void aSessionHoldsAtMostSixteenClaimsAndGivesBackTheOldestForANewOne() {
        for (int i = 0; i < IngressGuard.IPV6_CLAIMS_PER_SESSION + 1; i++) {
            assertThat(first.admit(echo(MAC_1, PREFIX + "1234:5678:9abc:" + Integer.toHexString(0x100 + i))))
                    .isTrue();
        }
        assertThat(first.ipv6ClaimCount()).isEqualTo(IngressGuard.IPV6_CLAIMS_PER_SESSION);
        assertThat(owners.size()).isEqualTo(IngressGuard.IPV6_CLAIMS_PER_SESSION);
        assertThat(second.admit(echo(MAC_2, PREFIX + "1234:5678:9abc:100"))).as("given back").isTrue();
        assertThat(second.admit(echo(MAC_2, PREFIX + "1234:5678:9abc:101"))).as("still held").isFalse();
    }

    @Test
    void theGatewaysAddressesAreNobodys() {
        assertThat(first.admit(echo(MAC_1, GATEWAY))).isFalse();
        assertThat(first.admit(echo(MAC_1, PREFIX + ":3"))).as("the DNS address").isFalse();
        assertThat(first.admit(echo(MAC_1, "fe80::5054:ff:fe12:3456"))).isFalse();
        assertThat(spoofed()).isEqualTo(3);
    }

    @Test
    void theUnspecifiedSourceOnlyForDuplicateAddressDetectionAndMldReports() {
        ByteBuf dad = Unpooled.wrappedBuffer(frame(0x33_33_ff_3c_51_e2L, MAC_1, "::", "ff02::1:ff3c:51e2", 255, 58,
                neighbour(135, PRIVATE)));
        assertThat(first.admit(dad)).isTrue();
        assertThat(second.admit(echo(MAC_2, PRIVATE))).as("the solicitation claimed its target").isFalse();
        assertThat(second.admit(Unpooled.wrappedBuffer(frame(0x33_33_ff_3c_51_e2L, MAC_2, "::",
                "ff02::1:ff3c:51e2", 255, 58, neighbour(135, PRIVATE))))).as("goes out so its holder defends it")
                .isTrue();
        // An MLDv2 report behind its hop-by-hop router alert (RFC 3590 section 4).
        byte[] hopByHop = hex("3a 00 05 02 0000 0100");
        byte[] report = hex("8f 00 0000 0000 0001 04 00 0000 ff02 0000 0000 0000 0000 0001 ff3c 51e2");
        assertThat(first.admit(Unpooled.wrappedBuffer(frame(0x33_33_00_00_00_16L, MAC_1, "::", "ff02::16", 1, 0,
                concat(hopByHop, report))))).isTrue();
        assertThat(first.admit(echo(MAC_1, "::"))).isFalse();
        assertThat(spoofed()).isEqualTo(2);
    }

    @Test
    void advertisingAnotherSessionsAddressIsDropped() {
        assertThat(second.admit(echo(MAC_2, PRIVATE))).isTrue();
        ByteBuf poison = Unpooled.wrappedBuffer(frame(ALL_NODES_MAC, MAC_1, LINK_LOCAL_1, "ff02::1", 255, 58,
                neighbour(136, PRIVATE)));
        assertThat(first.admit(poison)).isFalse();
        ByteBuf own = Unpooled.wrappedBuffer(frame(ALL_NODES_MAC, MAC_1, LINK_LOCAL_1, "ff02::1", 255, 58,
                neighbour(136, SLAAC_1)));
        assertThat(first.admit(own)).isTrue();
        assertThat(spoofed()).isEqualTo(1);
    }

    @Test
    void routerAdvertisementsAndRedirectsNeverComeFromASessionNotEvenBehindExtensionHeaders() {
        byte[] advertisement = hex("86 00 0000 40 00 0708 0000 0000 0000 0000");
        assertThat(first.admit(Unpooled.wrappedBuffer(frame(ALL_NODES_MAC, MAC_1, LINK_LOCAL_1, "ff02::1", 255, 58,
                advertisement)))).isFalse();
        byte[] destinationOptions = hex("3a 00 01 04 0000 0000");
        assertThat(first.admit(Unpooled.wrappedBuffer(frame(ALL_NODES_MAC, MAC_1, LINK_LOCAL_1, "ff02::1", 255, 60,
                concat(destinationOptions, advertisement))))).isFalse();
        byte[] redirect = concat(hex("89 00 0000 0000 0000"), Ipv6Fixtures.address(GATEWAY),
                Ipv6Fixtures.address(SLAAC_1));
        assertThat(first.admit(Unpooled.wrappedBuffer(frame(GATEWAY_MAC, MAC_1, LINK_LOCAL_1, "fe80::1", 255, 58,
                redirect)))).isFalse();
        assertThat(spoofed()).isEqualTo(3);
    }

    @Test
    void neighbourDiscoveryInAFragmentAndUnwalkableChainsAreDropped() {
        byte[] fragmentHeader = hex("3a 00 0000 0000 0001");
        assertThat(first.admit(Unpooled.wrappedBuffer(frame(GATEWAY_MAC, MAC_1, LINK_LOCAL_1, "fe80::5054:ff:fe12:3456",
                255, 44, concat(fragmentHeader, neighbour(135, "fe80::5054:ff:fe12:3456")))))).isFalse();
        // A destination options header claiming 16 bytes where 8 are left.
        assertThat(first.admit(Unpooled.wrappedBuffer(frame(GATEWAY_MAC, MAC_1, SLAAC_1, GATEWAY, 64, 60,
                hex("3a 01 0000 0000 0000"))))).isFalse();
        // A fixed header cut short.
        ByteBuf cut = echo(MAC_1, SLAAC_1);
        assertThat(first.admit(cut.slice(0, 40))).isFalse();
        assertThat(counters.get(Counter.DROP_IPV6_HEADER_CHAIN)).isEqualTo(3);
        // A later fragment's source is still checked; its body is not ND.
        byte[] later = hex("3a 00 0008 0000 0001 0000 0000 0000 0000");
        assertThat(first.admit(Unpooled.wrappedBuffer(frame(GATEWAY_MAC, MAC_1, SLAAC_1, GATEWAY, 64, 44, later))))
                .isTrue();
        assertThat(first.admit(Unpooled.wrappedBuffer(frame(GATEWAY_MAC, MAC_1, SLAAC_2, GATEWAY, 64, 44, later))))
                .isFalse();
        assertThat(spoofed()).isEqualTo(1);
    }

    @Test
    void behindAVlanTagTheSameRulesHold() {
        ByteBuf untagged = echo(MAC_1, SLAAC_2);
        ByteBuf tagged = Unpooled.buffer(untagged.readableBytes() + 4);
        tagged.writeBytes(untagged, 0, 12).writeShort(0x8100).writeShort(5)
                .writeBytes(untagged, 12, untagged.readableBytes() - 12);
        assertThat(first.admit(tagged)).isFalse();
        assertThat(spoofed()).isEqualTo(1);
    }

    @Test
    void perSessionDropsAreReported() {
        first.admit(echo(MAC_1, SLAAC_2));
        java.util.Map<String, Long> drops = new java.util.HashMap<>();
        first.forEachDrop(drops::put);
        assertThat(drops).containsEntry("spoofed_ipv6", 1L).containsEntry("ipv6_header_chain", 0L);
    }
}
