package dev.riscvrelay.relay.nat.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** RFC 9438's window: the decrease, the curve's concave and convex regions, the Reno-friendly floor, fast convergence. */
class CubicTest {

    private static final int MSS = 1000;

    /** A window that was 100 segments when the loss came, now 70 segments and in congestion avoidance. */
    private static Cubic afterLossAt100() {
        Cubic cubic = new Cubic(MSS);
        assertThat(cubic.onCongestion(100 * MSS, 100 * MSS)).isEqualTo(70 * MSS);
        return cubic;
    }

    /**
     * Congestion avoidance for {@code seconds} on a path of {@code rtt}: each round trip acknowledges the whole window,
     * one segment per ACK. Returns the window in segments after each round trip.
     */
    private static double[] run(Cubic cubic, int cwnd, long rttNanos, double seconds) {
        int rounds = (int) (seconds * 1e9 / rttNanos);
        double[] windows = new double[rounds];
        long now = 1_000_000_000L;
        for (int round = 0; round < rounds; round++) {
            int acks = cwnd / MSS;
            for (int i = 0; i < acks; i++) {
                cwnd = cubic.grow(cwnd, MSS, now + rttNanos * i / acks, rttNanos);
            }
            now += rttNanos;
            windows[round] = (double) cwnd / MSS;
        }
        return windows;
    }

    @Test
    void aLossKeepsSevenTenthsOfTheFlightAndNeverLessThanTwoSegments() {
        Cubic cubic = new Cubic(MSS);
        assertThat(cubic.onCongestion(100 * MSS, 80 * MSS)).isEqualTo(56 * MSS);
        assertThat(cubic.onCongestion(2 * MSS, 2 * MSS)).isEqualTo(2 * MSS);
    }

    @Test
    void onALongPathTheWindowClimbsBackToWhereTheLossCameFlattensThereThenProbesBeyond() {
        long rtt = TimeUnit.MILLISECONDS.toNanos(200);
        double k = Math.cbrt((100 - 70) / Cubic.C); // 4.2 s to the plateau
        double[] windows = run(afterLossAt100(), 70 * MSS, rtt, 8);
        int atK = (int) (k / 0.2);
        // Concave: most of the way back within the first half of K, then slowing down near 100.
        assertThat(windows[atK / 2]).isBetween(90.0, 99.0);
        assertThat(windows[atK]).isCloseTo(100, within(2.0));
        assertThat(windows[atK] - windows[atK - 3]).isLessThan(windows[3] - windows[0]);
        // Convex: past K it leaves the plateau, faster and faster.
        assertThat(windows[windows.length - 1]).isGreaterThan(110);
        int last = windows.length - 1;
        assertThat(windows[last] - windows[last - 3]).isGreaterThan(windows[atK + 3] - windows[atK]);
    }

    @Test
    void onAShortPathRenosGrowthIsTheFloor() {
        long rtt = TimeUnit.MILLISECONDS.toNanos(1);
        double[] windows = run(afterLossAt100(), 70 * MSS, rtt, 0.02);
        // 20 round trips: the curve has hardly moved in 20 ms, Reno's estimate grows 3 * 0.3 / 1.7 per round trip.
        double alpha = 3 * (1 - Cubic.BETA) / (1 + Cubic.BETA);
        assertThat(windows[19]).isCloseTo(70 + 20 * alpha, within(1.0));
    }

    @Test
    void beforeAnyLossTheWindowGrowsFromWhereCongestionAvoidanceStarted() {
        Cubic cubic = new Cubic(MSS);
        double[] windows = run(cubic, 50 * MSS, TimeUnit.MILLISECONDS.toNanos(50), 2);
        assertThat(windows[windows.length - 1]).isGreaterThan(windows[0] + 10);
    }

    @Test
    void aLossBelowTheLastMaximumGivesUpMoreOfIt() {
        Cubic cubic = afterLossAt100();
        cubic.onCongestion(80 * MSS, 80 * MSS); // fell short of 100: W_max becomes 80 * 1.7 / 2 = 68
        double[] windows = run(cubic, 56 * MSS, TimeUnit.MILLISECONDS.toNanos(200), 4);
        double k = Math.cbrt((68 - 56) / Cubic.C);
        assertThat(windows[(int) (k / 0.2)]).isCloseTo(68, within(2.0));
    }
}
