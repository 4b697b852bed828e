package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.MacAddress;
import org.junit.jupiter.api.Test;

class GatewayConfigTest {

    @Test
    void defaultsAreTheSlirpConventions() {
        GatewayConfig config = GatewayConfig.defaults();
        assertThat(MacAddress.format(config.mac())).isEqualTo("52:54:00:12:34:56");
        assertThat(Ipv4Address.format(config.address())).isEqualTo("10.0.2.2");
        assertThat(Ipv4Address.format(config.dnsAddress())).isEqualTo("10.0.2.3");
        assertThat(Ipv4Address.format(config.network())).isEqualTo("10.0.2.0");
        assertThat(config.prefixLength()).isEqualTo(24);
        assertThat(Ipv4Address.format(config.netmask())).isEqualTo("255.255.255.0");
        assertThat(Ipv4Address.format(config.broadcastAddress())).isEqualTo("10.0.2.255");
        assertThat(config.inNetwork(Ipv4Address.parse("10.0.2.15"))).isTrue();
        assertThat(config.inNetwork(Ipv4Address.parse("10.0.3.15"))).isFalse();
        assertThat(config.isGatewayAddress(Ipv4Address.parse("10.0.2.3"))).isTrue();
        assertThat(config.isGatewayAddress(Ipv4Address.parse("10.0.2.15"))).isFalse();
        assertThat(config.toString()).contains("52:54:00:12:34:56", "10.0.2.2", "10.0.2.0/24");
    }

    @Test
    void inconsistentConfigsAreRefused() {
        long mac = GatewayConfig.DEFAULT_MAC;
        int net = GatewayConfig.DEFAULT_NETWORK;
        int gw = GatewayConfig.DEFAULT_ADDRESS;
        int dns = GatewayConfig.DEFAULT_DNS_ADDRESS;
        assertThatThrownBy(() -> new GatewayConfig(MacAddress.BROADCAST, gw, dns, net, 24, 8))
                .hasMessageContaining("unicast");
        assertThatThrownBy(() -> new GatewayConfig(mac, Ipv4Address.parse("10.0.3.2"), dns, net, 24, 8))
                .hasMessageContaining("not a host address");
        assertThatThrownBy(() -> new GatewayConfig(mac, Ipv4Address.parse("10.0.2.255"), dns, net, 24, 8))
                .hasMessageContaining("not a host address");
        assertThatThrownBy(() -> new GatewayConfig(mac, gw, gw, net, 24, 8)).hasMessageContaining("differ");
        assertThatThrownBy(() -> new GatewayConfig(mac, gw, dns, Ipv4Address.parse("10.0.2.1"), 24, 8))
                .hasMessageContaining("host bits");
        assertThatThrownBy(() -> new GatewayConfig(mac, gw, dns, net, 31, 8)).hasMessageContaining("prefix");
        assertThatThrownBy(() -> new GatewayConfig(mac, gw, dns, net, 24, -1)).hasMessageContaining("headroom");
    }
}
