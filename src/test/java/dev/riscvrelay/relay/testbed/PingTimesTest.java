package dev.riscvrelay.relay.testbed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Per-ping times from iputils ping's output, and nearest-rank percentiles over them. */
class PingTimesTest {

    private static final String OUTPUT = """
            PING 10.0.2.2 (10.0.2.2) 56(84) bytes of data.
            64 bytes from 10.0.2.2: icmp_seq=1 ttl=64 time=0.412 ms
            64 bytes from 10.0.2.2: icmp_seq=2 ttl=64 time=3.10 ms
            64 bytes from 10.0.2.2: icmp_seq=2 ttl=64 time=3.20 ms (DUP!)
            64 bytes from 10.0.2.2: icmp_seq=4 ttl=64 time=0.388 ms
            64 bytes from 10.0.2.2: icmp_seq=5 ttl=64 time=12.5 ms

            --- 10.0.2.2 ping statistics ---
            5 packets transmitted, 4 received, +1 duplicates, 20% packet loss, time 21ms
            rtt min/avg/max/mdev = 0.388/4.100/12.500/4.933 ms
            """;

    @Test
    void readsEachAnsweredPingOnceAndTheTransmittedCount() {
        PingTimes times = PingTimes.parse(OUTPUT, 1000);
        assertThat(times.sent()).as("from the summary, not the request").isEqualTo(5);
        assertThat(times.answered()).as("the duplicate of seq 2 left out").isEqualTo(4);
        assertThat(times.sortedMillis()).containsExactly(0.388, 0.412, 3.10, 12.5);
        assertThat(times.lossPercent()).isEqualTo(20.0);
        assertThat(times.max()).isEqualTo(12.5);
    }

    @Test
    void percentilesAreByNearestRank() {
        PingTimes times = PingTimes.parse(OUTPUT, 5);
        assertThat(times.percentile(50)).as("rank ceil(0.5 × 4) = 2").isEqualTo(0.412);
        assertThat(times.percentile(75)).isEqualTo(3.10);
        assertThat(times.percentile(99)).as("rank 4 of 4: the slowest").isEqualTo(12.5);
        assertThat(times.percentile(100)).isEqualTo(12.5);

        double[] hundred = new double[100];
        for (int i = 0; i < 100; i++) {
            hundred[i] = 100 - i; // 100 ms down to 1 ms, unsorted
        }
        PingTimes many = new PingTimes(100, hundred);
        assertThat(many.percentile(50)).isEqualTo(50);
        assertThat(many.percentile(99)).isEqualTo(99);
        assertThat(many.percentile(1)).isEqualTo(1);
        assertThatThrownBy(() -> many.percentile(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aPingKilledBeforeItsSummaryCountsTheRequestedPingsAsSent() {
        PingTimes times = PingTimes.parse("""
                64 bytes from 10.0.2.2: icmp_seq=1 ttl=64 time=1.00 ms
                64 bytes from 10.0.2.2: icmp_seq=2 ttl=64 time=2.00 ms
                """, 10);
        assertThat(times.sent()).isEqualTo(10);
        assertThat(times.lossPercent()).isEqualTo(80.0);
    }

    @Test
    void noAnswerHasNoPercentilesButFullLoss() {
        PingTimes times = PingTimes.parse("""
                --- 10.0.2.2 ping statistics ---
                200 packets transmitted, 0 received, 100% packet loss, time 2001ms
                """, 200);
        assertThat(times.answered()).isZero();
        assertThat(times.percentile(50)).isNaN();
        assertThat(times.max()).isNaN();
        assertThat(times.lossPercent()).isEqualTo(100.0);
    }
}
