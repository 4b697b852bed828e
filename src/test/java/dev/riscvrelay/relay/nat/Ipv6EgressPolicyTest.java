package dev.riscvrelay.relay.nat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.wire.Ipv6Address;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class Ipv6EgressPolicyTest {

    private static final Ipv6EgressPolicy DEFAULTS = Ipv6EgressPolicy.create(EgressRules.NONE, Set.of());

    @ParameterizedTest
    @ValueSource(strings = {"::", "::1", "::ffff:10.0.2.2", "::ffff:8.8.8.8", "64:ff9b::a00:1", "64:ff9b:1::1",
        "100::1", "2001:2::1", "2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "fc00::1", "fd00:10:0:2::2",
        "fdff:ffff::1", "fe80::1", "febf::1", "fec0::1", "ff02::1", "ff0e::101"})
    void specialRangesAreDeniedByDefault(String address) {
        assertThat(allows(DEFAULTS, address)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"2001:4860:4860::8888", "2606:4700:4700::1111", "2001:db7:ffff::1", "2001:db9::1",
        "fbff::1", "::2", "64:ff9b::1:0:0:1", "2001:3::1"})
    void publicAddressesAndRangeEdgesAreAllowed(String address) {
        assertThat(allows(DEFAULTS, address)).isTrue();
    }

    @Test
    void theHostsOwnAddressesAreDenied() {
        Ipv6EgressPolicy policy = Ipv6EgressPolicy.create(EgressRules.NONE, Set.of(Ipv6Cidr.parse("2001:4860::7")));
        assertThat(allows(policy, "2001:4860::7")).isFalse();
        assertThat(allows(policy, "2001:4860::8")).isTrue();
        assertThat(Ipv6EgressPolicy.hostAddresses()).as("loopback is an interface address")
                .contains(Ipv6Cidr.parse("::1"));
    }

    @Test
    void theMostSpecificPrefixWinsAndDenyBeatsAllowOnEqualOnes() {
        Ipv6EgressPolicy policy = Ipv6EgressPolicy.create(new EgressRules(List.of(), List.of(),
                List.of(Ipv6Cidr.parse("2001:db8::/32"), Ipv6Cidr.parse("2001:4860::/32")),
                List.of(Ipv6Cidr.parse("2001:db8:bad::/48"), Ipv6Cidr.parse("2001:4860::/32"))), Set.of());
        assertThat(allows(policy, "2001:db8::1")).as("--allow opens the documentation range").isTrue();
        assertThat(allows(policy, "2001:db8:bad::1")).as("a more specific --deny").isFalse();
        assertThat(allows(policy, "2001:4860::1")).as("deny beats allow of the same prefix").isFalse();
        assertThat(allows(policy, "fe80::1")).isFalse();
    }

    @Test
    void anAllowOfEverythingStillLosesToMoreSpecificDefaultsAndADenyOfEverythingClosesAll() {
        Ipv6EgressPolicy open = Ipv6EgressPolicy.create(new EgressRules(List.of(), List.of(),
                List.of(Ipv6Cidr.parse("::/0")), List.of()), Set.of());
        assertThat(allows(open, "::1")).isFalse();
        Ipv6EgressPolicy closed = Ipv6EgressPolicy.create(new EgressRules(List.of(), List.of(),
                List.of(Ipv6Cidr.parse("2606:4700::/32")), List.of(Ipv6Cidr.parse("::/0"))), Set.of());
        assertThat(allows(closed, "2001:4860:4860::8888")).isFalse();
        assertThat(allows(closed, "2606:4700:4700::1111")).isTrue();
        assertThat(closed.summary()).startsWith("Egress IPv6: VMs reach only what --allow opens; denied: ::/128,")
                .endsWith("; allowed by --allow: 2606:4700::/32; denied by --deny: ::/0 (change with --allow/--deny)");
    }

    @Test
    void theSummaryListsTheDefaultsInAddressOrderAndWhatTheOperatorChanged() {
        assertThat(DEFAULTS.summary()).isEqualTo("Egress IPv6: VMs reach the public internet; denied: ::/128, ::1/128,"
                + " ::ffff:0:0/96, 64:ff9b::/96, 64:ff9b:1::/48, 100::/64, 2001:2::/48, 2001:db8::/32, fc00::/7,"
                + " fe80::/10, fec0::/10, ff00::/8 (change with --allow/--deny)");
        Ipv6EgressPolicy policy = Ipv6EgressPolicy.create(new EgressRules(List.of(), List.of(),
                List.of(Ipv6Cidr.parse("2001:db8::/32")), List.of()), Set.of(Ipv6Cidr.parse("2001:4860::7")));
        assertThat(policy.summary()).doesNotContain(" 2001:db8::/32,")
                .contains(", ff00::/8, this host's own addresses; allowed by --allow: 2001:db8::/32 (change");
    }

    @Test
    void prefixesParseClearHostBitsAndRefuseNonsense() {
        assertThat(Ipv6Cidr.parse("2001:db8:1:2::5/32")).isEqualTo(Ipv6Cidr.parse("2001:db8::/32"));
        assertThat(Ipv6Cidr.parse("2001:db8::1").prefixLength()).isEqualTo(128);
        assertThat(Ipv6Cidr.parse("::ffff:0:0/96").toString()).isEqualTo("::ffff:0:0/96");
        assertThat(Ipv6Cidr.parse("fd00::1:2/127")).isEqualTo(Ipv6Cidr.parse("fd00::1:2/127"));
        assertThat(Ipv6Cidr.parse("fd00::1:3/127").toString()).isEqualTo("fd00::1:2/127");
        assertThat(Ipv6Cidr.parse("fd00:1::/64").contains(0xFD00_0001_0000_0000L, 42)).isTrue();
        assertThatThrownBy(() -> Ipv6Cidr.parse("2001:db8::/129")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Ipv6Cidr.parse("2001:db8::/x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Ipv6Cidr.parse("10.0.0.0/8")).isInstanceOf(IllegalArgumentException.class);
    }

    private static boolean allows(Ipv6EgressPolicy policy, String address) {
        long[] parsed = Ipv6Address.parse(address);
        return policy.allows(parsed[0], parsed[1]);
    }
}
