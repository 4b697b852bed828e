package dev.riscvrelay.relay.access;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which network and token a request target names. */
class NetworkPathTest {

    @Test
    void aPathNamesItsNetworkDecodedAndAnyOtherPathTheDefaultOne() {
        assertThat(NetworkPath.parse("/net/lab?token=a%2Fb")).isEqualTo(new NetworkPath("lab", "a/b"));
        assertThat(NetworkPath.parse("/net/la%62/")).isEqualTo(new NetworkPath("lab", null));
        assertThat(NetworkPath.parse("/?token=t")).isEqualTo(new NetworkPath(NetworkPath.DEFAULT_NETWORK, "t"));
        assertThat(NetworkPath.parse("/net/Lab").network()).as("names are lower case").isNull();
    }

    @Test
    void aTargetThatDoesNotDecodeNamesNoNetwork() {
        assertThat(NetworkPath.parse("/net/%")).isEqualTo(new NetworkPath(null, null));
        assertThat(NetworkPath.parse("/net/lab?token=%zz")).isEqualTo(new NetworkPath(null, null));
    }
}
