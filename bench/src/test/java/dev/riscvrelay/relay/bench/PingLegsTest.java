package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Splitting captured pings into their three legs. */
class PingLegsTest {

    private static final String FAR = "198.19.0.2";

    /** time, interface (0 TAP, 1 uplink), source, destination, ICMP type: as tshark prints the fields. */
    private static String packet(double seconds, int iface, String src, String dst, String icmpType) {
        return seconds + "\t" + iface + "\t" + src + "\t" + dst + "\t" + icmpType + "\n";
    }

    @Test
    void eachPingSplitsAtItsDatagramOutAndItsAnswerIn() {
        // The uplink's packets first, as a capture of two interfaces may write them: order comes from the times.
        String fields = packet(10.000200, 1, "198.18.0.11", FAR, "")
                + packet(10.000500, 1, FAR, "198.18.0.11", "")
                + packet(10.000700, 1, "198.18.0.11", FAR, "") // the connector's ACK after the answer
                + packet(10.000000, 0, "10.0.2.15", "10.0.2.2", "8")
                + packet(10.000650, 0, "10.0.2.2", "10.0.2.15", "0")
                + packet(10.010000, 0, "10.0.2.15", "10.0.2.2", "8")
                + packet(10.010100, 1, "198.18.0.11", FAR, "")
                + packet(10.010400, 1, FAR, "198.18.0.11", "")
                + packet(10.010450, 0, "10.0.2.2", "10.0.2.15", "0");
        PingLegs legs = PingLegs.parse(fields, FAR);
        assertThat(legs.pings()).isEqualTo(2);
        assertThat(legs.toWire()[0]).isCloseTo(0.200, within(1e-6));
        assertThat(legs.farEnd()[0]).isCloseTo(0.300, within(1e-6));
        assertThat(legs.toTap()[0]).isCloseTo(0.150, within(1e-6));
        assertThat(legs.toWire()[1]).isCloseTo(0.100, within(1e-6));
        assertThat(legs.farEnd()[1]).isCloseTo(0.300, within(1e-6));
        assertThat(legs.toTap()[1]).isCloseTo(0.050, within(1e-6));
    }

    @Test
    void aPingWithoutAnAnswerAndOtherTrafficAreLeftOut() {
        String fields = packet(1.000, 0, "10.0.2.15", "10.0.2.2", "8")
                + packet(1.001, 1, "198.18.0.11", FAR, "")
                // unanswered: the next request comes first
                + packet(1.010, 0, "10.0.2.15", "10.0.2.2", "8")
                + packet(1.0101, 1, "198.18.0.11", "198.18.0.1", "") // not to the far end
                + packet(1.0102, 1, "198.18.0.11", FAR, "")
                + packet(1.0105, 1, FAR, "198.18.0.11", "")
                + packet(1.0106, 0, "10.0.2.2", "10.0.2.15", "0")
                + "\n";
        PingLegs legs = PingLegs.parse(fields, FAR);
        assertThat(legs.pings()).isEqualTo(1);
        assertThat(legs.toWire()[0]).isCloseTo(0.2, within(1e-6));
        assertThat(legs.farEnd()[0]).isCloseTo(0.3, within(1e-6));
        assertThat(legs.toTap()[0]).isCloseTo(0.1, within(1e-6));
    }

    @Test
    void percentilesAreByNearestRank() {
        double[] leg = {0.4, 0.1, 0.3, 0.2};
        assertThat(PingLegs.percentile(leg, 50)).isEqualTo(0.2);
        assertThat(PingLegs.percentile(leg, 90)).isEqualTo(0.4);
        assertThat(PingLegs.percentile(new double[0], 50)).isNaN();
        assertThat(PingLegs.summary(leg)).isEqualTo("p50 0.200 / p90 0.400 ms");
    }
}
