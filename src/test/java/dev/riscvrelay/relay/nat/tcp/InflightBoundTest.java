package dev.riscvrelay.relay.nat.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Twice the bandwidth-delay product: from the largest recent rate and the shortest round trip, with a floor. */
class InflightBoundTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int FLOOR = 64 * 1024;

    private final InflightBound bound = new InflightBound(2, FLOOR, MS);
    private long now = 1_000_000_000L;

    /** Delivers {@code bytesPerMs} each millisecond for {@code millis}. */
    private void deliver(int bytesPerMs, int millis) {
        for (int i = 0; i < millis; i++) {
            now += MS;
            bound.onDelivered(bytesPerMs, now);
        }
    }

    @Test
    void isOffUntilBothTheRoundTripAndTheRateAreKnown() {
        assertThat(bound.bound(now)).isEqualTo(Integer.MAX_VALUE);
        deliver(100_000, 20);
        assertThat(bound.bound(now)).as("no round trip yet: no interval closes").isEqualTo(Integer.MAX_VALUE);
        bound.onRtt(10 * MS, now);
        assertThat(bound.bound(now)).as("a round trip, but no rate sample yet").isEqualTo(Integer.MAX_VALUE);
        deliver(100_000, 10);
        assertThat(bound.bound(now)).isNotEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void isTwiceTheBandwidthDelayProduct() {
        bound.onRtt(10 * MS, now);
        deliver(100_000, 100); // 100 MB/s across 10 ms: 1 MB in flight fills the path
        assertThat(bound.maxRateBytesPerSecond()).isEqualTo(100_000_000L);
        assertThat(bound.bound(now)).isEqualTo(2_000_000);
    }

    @Test
    void neverFallsBelowItsFloor() {
        bound.onRtt(MS / 10, now);
        deliver(1_000, 50);
        assertThat(bound.bound(now)).isEqualTo(FLOOR);
    }

    @Test
    void takesTheShortestRoundTrip() {
        bound.onRtt(20 * MS, now);
        bound.onRtt(10 * MS, now);
        bound.onRtt(30 * MS, now);
        assertThat(bound.minRttNanos()).isEqualTo(10 * MS);
    }

    @Test
    void keepsTheLargestOfTheRecentRatesAndForgetsOlderOnes() {
        bound.onRtt(10 * MS, now);
        bound.onDelivered(0, now);
        deliver(200_000, 10); // one interval at 200 MB/s
        deliver(100_000, 50); // five at 100 MB/s
        assertThat(bound.maxRateBytesPerSecond()).isEqualTo(200_000_000L);
        deliver(100_000, 50); // five more: the fast one is now eleventh from the newest
        assertThat(bound.maxRateBytesPerSecond()).isEqualTo(100_000_000L);
    }

    @Test
    void anIntervalLastsAtLeastTheMinimumInterval() {
        InflightBound slow = new InflightBound(2, FLOOR, 4 * MS);
        slow.onRtt(MS / 10, now);
        slow.onDelivered(0, now);
        // A burst: 400 KB within half a millisecond, then nothing until the interval ends.
        slow.onDelivered(400_000, now + MS / 2);
        assertThat(slow.maxRateBytesPerSecond()).as("the burst alone is no sample").isZero();
        slow.onDelivered(0, now + 4 * MS);
        assertThat(slow.maxRateBytesPerSecond()).isEqualTo(100_000_000L);
    }

    @Test
    void anIdleSpellIsNoInterval() {
        bound.onRtt(10 * MS, now);
        bound.onDelivered(0, now);
        deliver(100_000, 5); // half an interval, then nothing in flight
        bound.idle();
        now += TimeUnit.SECONDS.toNanos(1);
        bound.onDelivered(100_000, now); // opens a new interval; the second of silence is not in it
        deliver(100_000, 10);
        assertThat(bound.maxRateBytesPerSecond()).isEqualTo(100_000_000L);
    }

    @Test
    void probesForTheRoundTripOnceItIsOldAndTakesWhatTheProbeMeasured() {
        bound.onRtt(MS, now);
        deliver(100_000, 100);
        assertThat(bound.bound(now)).isEqualTo(200_000);
        now += InflightBound.MIN_RTT_LIFETIME_NANOS + MS;
        assertThat(bound.bound(now)).as("the probe holds the bound at its floor").isEqualTo(FLOOR);
        // The path got longer: the probe's samples say 5 ms.
        bound.onRtt(6 * MS, now);
        bound.onRtt(5 * MS, now + MS);
        now += InflightBound.PROBE_NANOS;
        deliver(100_000, 10);
        assertThat(bound.bound(now)).isEqualTo(1_000_000);
        assertThat(bound.minRttNanos()).isEqualTo(5 * MS);
    }

    @Test
    void aProbeWithoutSamplesKeepsTheRoundTrip() {
        bound.onRtt(MS, now);
        deliver(100_000, 100);
        now += InflightBound.MIN_RTT_LIFETIME_NANOS + MS;
        assertThat(bound.bound(now)).isEqualTo(FLOOR);
        now += InflightBound.PROBE_NANOS;
        assertThat(bound.bound(now)).isEqualTo(200_000);
        assertThat(bound.minRttNanos()).isEqualTo(MS);
    }

    @Test
    void ignoresRoundTripsThatAreNoMeasurement() {
        bound.onRtt(-1, now);
        bound.onRtt(0, now);
        assertThat(bound.minRttNanos()).isEqualTo(Long.MAX_VALUE);
    }
}
