package dev.riscvrelay.relay.access;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.wire.Ipv6Address;
import org.junit.jupiter.api.Test;

class Ipv6AddressOwnersTest {

    private final NetworkConfig config = NetworkConfig.defaults();
    private final Ipv6AddressOwners<String> owners = new Ipv6AddressOwners<>(config);

    @Test
    void firstComeHoldsUntilItGivesBack() {
        assertThat(owners.claim(config.ipv6Prefix(), 0x1234, "a")).isTrue();
        assertThat(owners.claim(config.ipv6Prefix(), 0x1234, "a")).isTrue();
        assertThat(owners.claim(config.ipv6Prefix(), 0x1234, "b")).isFalse();
        owners.release(config.ipv6Prefix(), 0x1234, "b");
        assertThat(owners.owner(config.ipv6Prefix(), 0x1234)).as("only its holder gives it back").isEqualTo("a");
        owners.release(config.ipv6Prefix(), 0x1234, "a");
        assertThat(owners.claim(config.ipv6Prefix(), 0x1234, "b")).isTrue();
        assertThat(owners.size()).isEqualTo(1);
    }

    @Test
    void theGatewaysAddressesAreNeverClaimed() {
        assertThat(owners.claim(config.ipv6Prefix(), config.gatewayIpv6Low(), "a")).isFalse();
        assertThat(owners.claim(config.ipv6Prefix(), config.dnsIpv6Low(), "a")).isFalse();
        assertThat(owners.claim(Ipv6Address.LINK_LOCAL_PREFIX, config.gatewayLinkLocalLow(), "a")).isFalse();
        assertThat(owners.size()).isZero();
    }
}
