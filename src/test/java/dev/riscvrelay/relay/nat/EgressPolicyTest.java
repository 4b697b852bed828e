package dev.riscvrelay.relay.nat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.wire.Ipv4Address;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EgressPolicyTest {

    private static final EgressPolicy DEFAULTS = EgressPolicy.create(EgressRules.NONE, Set.of());

    private static boolean allows(EgressPolicy policy, String address) {
        return policy.allows(Ipv4Address.parse(address));
    }

    @ParameterizedTest(name = "{0} is denied by default ({1})")
    @CsvSource({
        "0.0.0.0, this network 0/8",
        "0.255.255.255, this network 0/8",
        "127.0.0.1, loopback",
        "127.255.255.254, loopback",
        "10.0.0.1, RFC 1918 10/8",
        "10.255.255.255, RFC 1918 10/8",
        "172.16.0.1, RFC 1918 172.16/12",
        "172.31.255.254, RFC 1918 172.16/12",
        "192.168.0.1, RFC 1918 192.168/16",
        "192.168.255.255, RFC 1918 192.168/16",
        "169.254.169.254, link-local / cloud metadata",
        "169.254.0.1, link-local",
        "100.64.0.1, CGNAT 100.64/10",
        "100.127.255.255, CGNAT 100.64/10",
        "224.0.0.1, multicast",
        "239.255.255.250, multicast",
        "240.0.0.1, reserved 240/4",
        "254.1.2.3, reserved 240/4",
        "192.0.0.9, IETF protocol assignments 192.0.0.0/24",
        "192.0.2.1, documentation TEST-NET-1",
        "198.51.100.7, documentation TEST-NET-2",
        "203.0.113.10, documentation TEST-NET-3",
        "198.18.0.1, benchmarking 198.18.0.0/15",
        "198.19.255.254, benchmarking 198.18.0.0/15",
        "255.255.255.255, limited broadcast",
    })
    void deniedByDefault(String address, String why) {
        assertThat(allows(DEFAULTS, address)).as(why).isFalse();
    }

    @ParameterizedTest(name = "{0} is allowed by default")
    @CsvSource({
        "1.1.1.1", "8.8.8.8", "192.0.1.255", "192.0.3.0", "198.17.255.255", "198.20.0.0", "198.51.99.255",
        "203.0.114.0",
        "9.255.255.255", "11.0.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255", "192.169.0.0",
        "100.63.255.255", "100.128.0.0", "169.253.255.255", "169.255.0.0", "128.0.0.1", "223.255.255.255",
    })
    void publicAddressesAndRangeEdgesAreAllowed(String address) {
        assertThat(allows(DEFAULTS, address)).isTrue();
    }

    @Test
    void theHostsOwnAddressesAreDenied() {
        EgressPolicy policy = EgressPolicy.create(EgressRules.NONE, Set.of(Ipv4Address.parse("8.8.4.77")));
        assertThat(allows(policy, "8.8.4.77")).isFalse();
        assertThat(allows(policy, "8.8.4.78")).isTrue();
    }

    @Test
    void thisHostsInterfacesAreEnumeratedAndIncludeLoopback() {
        assertThat(EgressPolicy.hostAddresses()).contains(Ipv4Address.parse("127.0.0.1"));
    }

    @Test
    void aMoreSpecificAllowOpensPartOfADeniedRange() {
        EgressPolicy policy = EgressPolicy.create(new EgressRules(List.of(Cidr.parse("10.1.0.0/16")), List.of()),
                Set.of());
        assertThat(allows(policy, "10.1.2.3")).isTrue();
        assertThat(allows(policy, "10.2.0.1")).isFalse();
    }

    @Test
    void aMoreSpecificDenyClosesPartOfAnAllowedOne() {
        EgressPolicy policy = EgressPolicy.create(new EgressRules(List.of(Cidr.parse("10.0.0.0/8")),
                List.of(Cidr.parse("10.9.0.0/16"))), Set.of());
        assertThat(allows(policy, "10.1.2.3")).isTrue();
        assertThat(allows(policy, "10.9.1.1")).isFalse();
    }

    @Test
    void anOperatorDenyClosesPublicSpace() {
        EgressPolicy policy = EgressPolicy.create(new EgressRules(List.of(), List.of(Cidr.parse("8.8.8.0/24"))),
                Set.of());
        assertThat(allows(policy, "8.8.8.8")).isFalse();
        assertThat(allows(policy, "8.8.4.4")).isTrue();
    }

    @Test
    void anAllowOpensTheDocumentationRangesTestsUse() {
        EgressPolicy policy = EgressPolicy.create(new EgressRules(
                List.of(Cidr.parse("198.51.100.0/24"), Cidr.parse("203.0.113.0/24")), List.of()), Set.of());
        assertThat(allows(policy, "203.0.113.10")).isTrue();
        assertThat(allows(policy, "198.51.100.10")).isTrue();
        assertThat(allows(policy, "192.0.2.1")).isFalse();
    }

    @Test
    void onEqualPrefixesTheOperatorBeatsTheDefaultAndDenyBeatsAllow() {
        EgressPolicy allowLoopback = EgressPolicy.create(
                new EgressRules(List.of(Cidr.parse("127.0.0.0/8")), List.of()), Set.of());
        assertThat(allows(allowLoopback, "127.0.0.1")).isTrue();

        EgressPolicy allowHost = EgressPolicy.create(new EgressRules(List.of(Cidr.parse("192.0.2.5")), List.of()),
                Set.of(Ipv4Address.parse("192.0.2.5")));
        assertThat(allows(allowHost, "192.0.2.5")).isTrue();

        EgressPolicy both = EgressPolicy.create(new EgressRules(List.of(Cidr.parse("198.51.100.0/24")),
                List.of(Cidr.parse("198.51.100.0/24"))), Set.of());
        assertThat(allows(both, "198.51.100.1")).isFalse();
    }

    @Test
    void anAllowOfEverythingStillLosesToMoreSpecificDefaults() {
        EgressPolicy policy = EgressPolicy.create(new EgressRules(List.of(Cidr.parse("0.0.0.0/0")), List.of()),
                Set.of());
        assertThat(allows(policy, "8.8.8.8")).isTrue();
        assertThat(allows(policy, "10.0.0.1")).as("10/8 is more specific than /0").isFalse();
    }

    private static final String DEFAULT_DENIED = "0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16,"
            + " 172.16.0.0/12, 192.0.0.0/24, 192.0.2.0/24, 192.168.0.0/16, 198.18.0.0/15, 198.51.100.0/24,"
            + " 203.0.113.0/24, 224.0.0.0/4, 240.0.0.0/4, 255.255.255.255/32";

    @Test
    void theSummaryListsEveryDefaultDeniedRangeAndTheHostsOwnAddresses() {
        assertThat(DEFAULTS.summary()).isEqualTo("Egress: VMs reach the public internet; denied: " + DEFAULT_DENIED
                + " (change with --allow/--deny)");
        EgressPolicy onAHost = EgressPolicy.create(EgressRules.NONE, Set.of(Ipv4Address.parse("198.51.100.7")));
        assertThat(onAHost.summary()).isEqualTo("Egress: VMs reach the public internet; denied: " + DEFAULT_DENIED
                + ", this host's own addresses (change with --allow/--deny)");
        for (Cidr range : EgressPolicy.DEFAULT_DENIED) {
            assertThat(DEFAULTS.summary()).contains(" " + range + (range.prefixLength() == 32 ? " " : ","));
        }
    }

    @Test
    void theSummaryShowsAnAllowOfADefaultRangeInsteadOfThatRange() {
        EgressPolicy policy = EgressPolicy.create(new EgressRules(List.of(Cidr.parse("203.0.113.0/24")), List.of()),
                Set.of());
        assertThat(policy.summary()).isEqualTo("Egress: VMs reach the public internet; denied: "
                + DEFAULT_DENIED.replace(" 203.0.113.0/24,", "")
                + "; allowed by --allow: 203.0.113.0/24 (change with --allow/--deny)");
    }

    @Test
    void theSummaryKeepsADefaultRangeAnAllowOnlyOpensPartOf() {
        EgressPolicy policy = EgressPolicy.create(new EgressRules(List.of(Cidr.parse("10.1.0.0/16"),
                Cidr.parse("8.8.8.0/24")), List.of(Cidr.parse("8.8.8.0/24"), Cidr.parse("1.1.1.1"))), Set.of());
        assertThat(policy.summary()).isEqualTo("Egress: VMs reach the public internet; denied: " + DEFAULT_DENIED
                + "; allowed by --allow: 10.1.0.0/16; denied by --deny: 1.1.1.1/32, 8.8.8.0/24"
                + " (change with --allow/--deny)");
    }

    @Test
    void theSummaryOfADenyOfEverythingSaysOnlyAllowsGetThrough() {
        EgressPolicy policy = EgressPolicy.create(new EgressRules(List.of(Cidr.parse("93.184.216.0/24")),
                List.of(Cidr.parse("0.0.0.0/0"))), Set.of());
        assertThat(policy.summary()).startsWith("Egress: VMs reach only what --allow opens; denied: 0.0.0.0/8,")
                .endsWith("; allowed by --allow: 93.184.216.0/24; denied by --deny: 0.0.0.0/0"
                        + " (change with --allow/--deny)");
    }

    @Test
    void describeListsRulesInLookupOrder() {
        EgressPolicy policy = EgressPolicy.create(new EgressRules(List.of(Cidr.parse("10.1.0.0/16")), List.of()),
                Set.of());
        assertThat(policy.describe().get(0)).isEqualTo("deny  255.255.255.255/32 (default)");
        assertThat(policy.describe()).contains("allow 10.1.0.0/16 (operator)");
    }

    @Test
    void cidrParsingClearsHostBitsAndRejectsNonsense() {
        assertThat(Cidr.parse("10.1.2.3/8")).isEqualTo(new Cidr(Ipv4Address.parse("10.0.0.0"), 8));
        assertThat(Cidr.parse("192.0.2.1").prefixLength()).isEqualTo(32);
        assertThat(Cidr.parse("0.0.0.0/0").contains(Ipv4Address.parse("255.1.2.3"))).isTrue();
        assertThat(Cidr.parse("172.16.0.0/12").toString()).isEqualTo("172.16.0.0/12");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("10.0.0/8")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).isInstanceOf(IllegalArgumentException.class);
    }
}
