package dev.riscvrelay.relay.nat.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** RFC 6298's estimator: the first measurement, smoothing, Karn's rule, backoff and the bounds. */
class RttEstimatorTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    private final RttEstimator rtt = new RttEstimator(200 * MS, 60_000 * MS);

    @Test
    void startsAtOneSecondAndTheFirstMeasurementGivesThreeTimesIt() {
        assertThat(rtt.rto()).isEqualTo(1000 * MS);
        rtt.startTiming(100, 0);
        rtt.onAck(100, 50 * MS); // does not cover the timed segment's first byte
        assertThat(rtt.timing()).isTrue();
        rtt.onAck(101, 100 * MS);
        // SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR = 3R (section 2.2).
        assertThat(rtt.rto()).isEqualTo(300 * MS);
        assertThat(rtt.timing()).isFalse();
    }

    @Test
    void laterMeasurementsAreSmoothed() {
        measure(100 * MS);
        measure(200 * MS);
        // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5 (section 2.3).
        assertThat(rtt.rto()).isEqualTo(112_500_000L + 4 * 62_500_000L);
    }

    @Test
    void aRetransmittedSegmentIsNotMeasured() {
        rtt.startTiming(0, 0);
        rtt.cancelTiming();
        rtt.onAck(1, 5000 * MS);
        assertThat(rtt.rto()).isEqualTo(1000 * MS);
    }

    @Test
    void backoffDoublesWithinTheBounds() {
        measure(10 * MS);
        assertThat(rtt.rto()).as("raised to the floor").isEqualTo(200 * MS);
        for (int i = 0; i < 20; i++) {
            rtt.backOff();
        }
        assertThat(rtt.rto()).as("held at the ceiling").isEqualTo(60_000 * MS);
    }

    private void measure(long sample) {
        rtt.startTiming(0, 1_000_000 * MS);
        rtt.onAck(1, 1_000_000 * MS + sample);
    }
}
