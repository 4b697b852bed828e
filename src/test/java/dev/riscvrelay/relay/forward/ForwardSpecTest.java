package dev.riscvrelay.relay.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.wire.Ipv4Address;
import org.junit.jupiter.api.Test;

/** {@code --forward} as operators write it: defaults filled in, every malformed part refused with its reason. */
class ForwardSpecTest {

    @Test
    void portOnlyMeansEveryAddressAndTheDefaultNetwork() {
        ForwardSpec spec = ForwardSpec.parse("tcp:8022=10.0.2.15:22");
        assertThat(spec.protocol()).isEqualTo(ForwardSpec.Protocol.TCP);
        assertThat(spec.bind().getHostAddress()).isEqualTo("0.0.0.0");
        assertThat(spec.port()).isEqualTo(8022);
        assertThat(spec.network()).isEqualTo("default");
        assertThat(spec.vmAddress()).isEqualTo(Ipv4Address.parse("10.0.2.15"));
        assertThat(spec.vmPort()).isEqualTo(22);
        assertThat(spec).hasToString("tcp:0.0.0.0:8022=default/10.0.2.15:22");
    }

    @Test
    void addressNetworkAndUdp() {
        ForwardSpec spec = ForwardSpec.parse("udp:127.0.0.1:5353=class-a/10.0.2.20:53");
        assertThat(spec.protocol()).isEqualTo(ForwardSpec.Protocol.UDP);
        assertThat(spec.bind().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(spec.network()).isEqualTo("class-a");
        assertThat(spec.target()).isEqualTo("class-a/10.0.2.20:53");
        assertThat(ForwardSpec.parse("tcp:[::1]:8080=10.0.2.15:80"))
                .hasToString("tcp:[0:0:0:0:0:0:0:1]:8080=default/10.0.2.15:80");
    }

    @Test
    void malformedSpecsAreRefused() {
        for (String bad : new String[] {"tcp:8022", "sctp:1=10.0.2.15:2", "tcp:x=10.0.2.15:22", "tcp:8022=10.0.2.15",
                "tcp:8022=10.0.2.256:22", "tcp:70000=10.0.2.15:22", "tcp:8022=10.0.2.15:0",
                "tcp:localhost:8022=10.0.2.15:22", "tcp:8022=Bad_Name/10.0.2.15:22"}) {
            assertThatThrownBy(() -> ForwardSpec.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
