package dev.riscvrelay.relay.lan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.MacAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class NetworkConfigTest {

    @Test
    void aSubnetGetsTheSameConventionsAtItsOwnAddresses() {
        NetworkConfig sixteen = NetworkConfig.defaults().withSubnet(Ipv4Address.parse("10.0.0.0"), 16);
        assertThat(Ipv4Address.format(sixteen.gatewayAddress())).isEqualTo("10.0.0.2");
        assertThat(Ipv4Address.format(sixteen.dnsAddress())).isEqualTo("10.0.0.3");
        assertThat(Ipv4Address.format(sixteen.netmask())).isEqualTo("255.255.0.0");
        assertThat(Ipv4Address.format(sixteen.dhcpFirstAddress())).isEqualTo("10.0.0.15");
        assertThat(sixteen.dhcpPoolSize()).isEqualTo(65_520);
        assertThat(sixteen.inPool(Ipv4Address.parse("10.0.255.254"))).isTrue();
        assertThat(sixteen.inPool(Ipv4Address.parse("10.0.255.255"))).isFalse();

        NetworkConfig same = NetworkConfig.defaults().withSubnet(NetworkConfig.DEFAULT_NETWORK, 24);
        assertThat(same).isEqualTo(NetworkConfig.defaults());

        NetworkConfig eight = NetworkConfig.defaults().withSubnet(Ipv4Address.parse("10.0.0.0"), 8);
        assertThat(eight.dhcpPoolSize()).as("capped").isEqualTo(NetworkConfig.MAX_POOL_SIZE);

        NetworkConfig small = NetworkConfig.defaults().withSubnet(Ipv4Address.parse("192.168.7.32"), 27);
        assertThat(small.dhcpPoolSize()).isEqualTo(16);
        assertThat(Ipv4Address.format(small.gatewayAddress())).isEqualTo("192.168.7.34");

        assertThatThrownBy(() -> NetworkConfig.defaults().withSubnet(Ipv4Address.parse("10.0.0.0"), 28))
                .hasMessageContaining("8..27");
        assertThatThrownBy(() -> NetworkConfig.defaults().withSubnet(Ipv4Address.parse("10.0.2.1"), 24))
                .hasMessageContaining("host bits");
    }

    @Test
    void defaultsAreTheSlirpConventionsAndWhatTheRelayRuns() {
        NetworkConfig config = NetworkConfig.defaults();
        assertThat(MacAddress.format(config.gatewayMac())).isEqualTo("52:54:00:12:34:56");
        assertThat(Ipv4Address.format(config.gatewayAddress())).isEqualTo("10.0.2.2");
        assertThat(Ipv4Address.format(config.dnsAddress())).isEqualTo("10.0.2.3");
        assertThat(Ipv4Address.format(config.network())).isEqualTo("10.0.2.0");
        assertThat(config.prefixLength()).isEqualTo(24);
        assertThat(Ipv4Address.format(config.netmask())).isEqualTo("255.255.255.0");
        assertThat(Ipv4Address.format(config.broadcastAddress())).isEqualTo("10.0.2.255");
        assertThat(config.inNetwork(Ipv4Address.parse("10.0.2.15"))).isTrue();
        assertThat(config.inNetwork(Ipv4Address.parse("10.0.3.15"))).isFalse();
        assertThat(config.isGatewayAddress(Ipv4Address.parse("10.0.2.3"))).isTrue();
        assertThat(config.isGatewayAddress(Ipv4Address.parse("10.0.2.15"))).isFalse();
        assertThat(config.mtu()).as("one browser datagram (1199) less the Ethernet header").isEqualTo(1185);
        assertThat(config.frameHeadroom()).as("a QUIC varint").isEqualTo(8);
        assertThat(Ipv4Address.format(config.dhcpFirstAddress())).isEqualTo("10.0.2.15");
        assertThat(config.inPool(Ipv4Address.parse("10.0.2.254"))).isTrue();
        assertThat(config.inPool(Ipv4Address.parse("10.0.2.255"))).isFalse();
        assertThat(config.leaseSeconds()).isEqualTo(3600);
        assertThat(config.renewalSeconds()).isEqualTo(1800);
        assertThat(config.rebindingSeconds()).isEqualTo(3150);
        assertThat(config.macTableCapacity()).isEqualTo(4096);
        assertThat(config.macAgingTime()).isEqualTo(Duration.ofSeconds(300));
        assertThat(config.toString()).contains("52:54:00:12:34:56", "10.0.2.2", "10.0.2.0/24", "mtu=1185");
    }

    @Test
    void inconsistentConfigsAreRefused() {
        NetworkConfig d = NetworkConfig.defaults();
        assertThatThrownBy(() -> with(d, d.network(), 24, MacAddress.BROADCAST, d.gatewayAddress(), d.dnsAddress(),
                8)).hasMessageContaining("unicast");
        assertThatThrownBy(() -> with(d, d.network(), 24, d.gatewayMac(), Ipv4Address.parse("10.0.3.2"),
                d.dnsAddress(), 8)).hasMessageContaining("not a host address");
        assertThatThrownBy(() -> with(d, d.network(), 24, d.gatewayMac(), Ipv4Address.parse("10.0.2.255"),
                d.dnsAddress(), 8)).hasMessageContaining("not a host address");
        assertThatThrownBy(() -> with(d, d.network(), 24, d.gatewayMac(), d.gatewayAddress(), d.gatewayAddress(),
                8)).hasMessageContaining("differ");
        assertThatThrownBy(() -> with(d, Ipv4Address.parse("10.0.2.1"), 24, d.gatewayMac(), d.gatewayAddress(),
                d.dnsAddress(), 8)).hasMessageContaining("host bits");
        assertThatThrownBy(() -> with(d, d.network(), 31, d.gatewayMac(), d.gatewayAddress(), d.dnsAddress(), 8))
                .hasMessageContaining("prefix");
        assertThatThrownBy(() -> with(d, d.network(), 24, d.gatewayMac(), d.gatewayAddress(), d.dnsAddress(), -1))
                .hasMessageContaining("headroom");
    }

    @Test
    void theMtuPoolLeaseAndMacTableAreBounded() {
        NetworkConfig d = NetworkConfig.defaults();
        assertThatThrownBy(() -> d.withMtu(575)).hasMessageContaining("576");
        assertThat(d.withMtu(576).mtu()).isEqualTo(576);
        assertThatThrownBy(() -> d.withPool(Ipv4Address.parse("10.0.2.250"), 10)).hasMessageContaining("pool");
        assertThatThrownBy(() -> d.withPool(Ipv4Address.parse("10.0.2.1"), 5))
                .hasMessageContaining("covers the gateway");
        assertThatThrownBy(() -> d.withLeaseTime(Duration.ofSeconds(59))).hasMessageContaining("lease time");
        assertThatThrownBy(() -> d.withMacTable(0, Duration.ofSeconds(1))).hasMessageContaining("MAC table");
        assertThatThrownBy(() -> d.withMacTable(1, Duration.ZERO)).hasMessageContaining("ageing");
    }

    private static NetworkConfig with(NetworkConfig d, int network, int prefix, long mac, int gateway, int dns,
            int headroom) {
        return new NetworkConfig(network, prefix, mac, gateway, dns, d.mtu(), headroom, d.dhcpFirstAddress(),
                d.dhcpPoolSize(), d.leaseTime(), d.offerHoldTime(), d.macTableCapacity(), d.macAgingTime(),
                d.ipv6Prefix());
    }
}
