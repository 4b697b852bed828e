package dev.riscvrelay.relay.transport.wisp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.access.NetworkPath;
import org.junit.jupiter.api.Test;

/** Where a WISP client connects: its network and token, or no WISP endpoint at all. */
class WispPathTest {

    @Test
    void wispPathsNameTheirNetworkAndOthersAreNotWisps() {
        assertThat(WispPath.parse("/wisp/?token=t")).isEqualTo(new WispPath(NetworkPath.DEFAULT_NETWORK, "t"));
        assertThat(WispPath.parse("/net/lab/wisp/")).isEqualTo(new WispPath("lab", null));
        assertThat(WispPath.parse("/net/lab")).isNull();
    }

    @Test
    void aQueryThatDoesNotDecodeNamesNoNetwork() {
        assertThat(WispPath.parse("/net/lab/wisp/?token=%")).isEqualTo(new WispPath(null, null));
    }
}
