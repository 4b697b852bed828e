package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The pacer's rate (a window per round trip, at least 1.25x the delivery rate), its bucket and its wake-ups. */
class DatagramPacerTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int DATAGRAM = 1400;

    /** Datagrams the pacer lets go at {@code now} when asked until it refuses. */
    private static int drain(DatagramPacer pacer, long now) {
        int sent = 0;
        while (pacer.maySend(now) && sent < 100_000) {
            pacer.sent(DATAGRAM);
            sent++;
        }
        return sent;
    }

    @Test
    void withoutStatisticsNothingIsHeldBack() {
        DatagramPacer pacer = new DatagramPacer();
        assertThat(drain(pacer, 0)).isEqualTo(100_000);
        assertThat(pacer.delayNanos()).isZero();
        pacer.onStats(500_000, 0, 0, 0); // no RTT measured yet
        assertThat(pacer.bytesPerSecond()).isZero();
        assertThat(pacer.maySend(0)).isTrue();
    }

    @Test
    void theRateIsAWindowPerRoundTripAndItsBurstOneMillisecondOfIt() {
        DatagramPacer pacer = new DatagramPacer();
        pacer.onStats(250_000, 20 * MS, 0, 0); // 12.5 MB/s = 100 Mbit/s
        assertThat(pacer.bytesPerSecond()).isEqualTo(12_500_000);
        // The bucket starts full: 1 ms of the rate is 12,500 bytes, below the 16 KiB floor.
        int first = drain(pacer, 0);
        assertThat(first).isEqualTo((int) Math.ceil(16384.0 / DATAGRAM));
        // Over 20 ms, about the window goes: 20 ms x 12.5 MB/s = 250 kB, give or take a bucket.
        int sent = 0;
        for (long now = 0; now <= 20 * MS; now += MS / 10) {
            sent += drain(pacer, now);
        }
        assertThat((long) sent * DATAGRAM).isBetween(250_000L - 2 * DATAGRAM, 250_000L + 16_384 + DATAGRAM);
    }

    @Test
    void aDeliveryRateAboveTheWindowsRateRaisesItByAQuarter() {
        DatagramPacer pacer = new DatagramPacer();
        pacer.onStats(100_000, 20 * MS, 8_000_000, 0); // window per RTT 5 MB/s, delivered 8 MB/s
        assertThat(pacer.bytesPerSecond()).isEqualTo(10_000_000);
    }

    @Test
    void aHeldBackFlushWakesWhenHalfABucketIsBack() {
        DatagramPacer pacer = new DatagramPacer();
        pacer.onStats(1_250_000, 10 * MS, 0, 0); // 125 MB/s: a bucket of 125 kB
        drain(pacer, 0);
        long delay = pacer.delayNanos();
        // Half the bucket, 62.5 kB, at 125 MB/s: 0.5 ms, plus the debt of at most one datagram.
        assertThat(delay).isBetween(500_000L, 500_000L + DATAGRAM * 8L + 1);
        assertThat(pacer.maySend(delay)).isTrue();
        assertThat(drain(pacer, delay)).isGreaterThanOrEqualTo(62_500 / DATAGRAM);
    }

    @Test
    void aShortPathIsNeverPacedEvenWhenItsRoundTripSwells() {
        DatagramPacer pacer = new DatagramPacer();
        pacer.onStats(300_000, MS / 2, 0, 0); // a LAN: 0.5 ms
        assertThat(pacer.bytesPerSecond()).isZero();
        pacer.onStats(300_000, 12 * MS, 0, MS); // the hosts busy: 12 ms smoothed
        assertThat(pacer.bytesPerSecond()).as("a LAN turns paced at its loaded RTT").isZero();
        assertThat(drain(pacer, MS)).isEqualTo(100_000);
        pacer.onStats(300_000, 12 * MS, 0, 60_000 * MS); // a minute later, still
        assertThat(pacer.bytesPerSecond()).isZero();
    }

    @Test
    void aSmallWindowIsNotPacedSoANewConnectionsHandshakeRttCannotHoldItBack() {
        DatagramPacer pacer = new DatagramPacer();
        pacer.onStats(15_000, 55 * MS, 0, 0); // a cold handshake's RTT, BBR's first window
        assertThat(pacer.bytesPerSecond()).isZero();
        pacer.onStats(DatagramPacer.MIN_PACED_WINDOW_BYTES, 55 * MS, 0, 5 * MS);
        assertThat(pacer.bytesPerSecond()).as("a long path with a real window").isPositive();
        pacer.onStats(20_000, MS, 0, 10 * MS); // the first samples of a LAN
        assertThat(pacer.bytesPerSecond()).isZero();
    }

    @Test
    void aSmallWindowOnALongPathIsPacedOnceTwoSecondsOfTrafficSettledItsRtt() {
        DatagramPacer pacer = new DatagramPacer();
        long at = 0;
        pacer.onStats(15_000, 55 * MS, 0, at); // the handshake's RTT
        at += 10_000 * MS; // idle for ten seconds: no traffic, no statistics
        for (int read = 0; read < 19; read++) { // 1.9 s of traffic, read every 100 ms
            at += 100 * MS;
            pacer.onStats(40_000, 25 * MS, 0, at);
            assertThat(pacer.bytesPerSecond()).as("read %d", read).isZero();
        }
        at += 100 * MS;
        pacer.onStats(40_000, 25 * MS, 0, at);
        assertThat(pacer.bytesPerSecond()).as("40 KB per 25 ms").isEqualTo(1_600_000);
        pacer.onStats(40_000, 5 * MS, 0, at + 100 * MS); // a LAN after all: never paced again
        assertThat(pacer.bytesPerSecond()).isZero();
    }

    @Test
    void aPathIsCalledLongOnlyOnceTwoSecondsOfTrafficSettledItsRtt() {
        DatagramPacer lan = new DatagramPacer();
        DatagramPacer far = new DatagramPacer();
        long at = 0;
        lan.onStats(15_000, 57 * MS, 0, at); // a cold handshake's RTT on a link of 0.1 ms
        far.onStats(15_000, 57 * MS, 0, at);
        for (int read = 0; read < 19; read++) { // 1.9 s of traffic, read every 100 ms
            at += 100 * MS;
            lan.onStats(40_000, MS / 2, 0, at);
            far.onStats(40_000, 25 * MS, 0, at);
            assertThat(lan.settled()).isFalse();
            assertThat(lan.longPath()).isFalse();
            assertThat(far.longPath()).as("read %d: not yet known", read).isFalse();
        }
        at += 100 * MS;
        lan.onStats(40_000, MS / 2, 0, at);
        far.onStats(40_000, 25 * MS, 0, at);
        assertThat(lan.settled()).isTrue();
        assertThat(lan.longPath()).as("the handshake's 57 ms are forgotten").isFalse();
        assertThat(far.longPath()).isTrue();
        assertThat(far.minRttNanos()).isEqualTo(25 * MS);
    }

    @Test
    void afterANatRebindingTheNewPathPacesOnceItsRttIsKnownAndAtItsOwnRate() {
        DatagramPacer pacer = new DatagramPacer();
        pacer.onPath(PathStats.of("198.51.100.7:5000", PathStats.VALIDATED, true, 250_000, 20 * MS, 0),
                ActivePath.Move.NONE, 0);
        assertThat(pacer.bytesPerSecond()).isEqualTo(12_500_000);
        // The new port's path before its challenge is answered: quiche's initial 333 ms would pace at 36 kB/s.
        pacer.onPath(PathStats.of("198.51.100.7:6000", PathStats.VALIDATING, true, 12_000, PathStats.INITIAL_RTT_NANOS,
                0), ActivePath.Move.NEW_PORT, 100 * MS);
        assertThat(pacer.bytesPerSecond()).as("unpaced while the new path's RTT is unknown").isZero();
        pacer.onPath(PathStats.of("198.51.100.7:6000", PathStats.VALIDATING, true, 12_000, PathStats.INITIAL_RTT_NANOS,
                0), ActivePath.Move.NONE, 200 * MS);
        assertThat(pacer.bytesPerSecond()).isZero();
        pacer.onPath(PathStats.of("198.51.100.7:6000", PathStats.VALIDATED, true, 500_000, 20 * MS, 0),
                ActivePath.Move.NONE, 300 * MS);
        assertThat(pacer.bytesPerSecond()).as("the new path's own window per round trip").isEqualTo(25_000_000);
    }

    @Test
    void aRebindingKeepsTheShortestRttButARoamingClientLearnsItsNewPathAfresh() {
        DatagramPacer rebound = new DatagramPacer();
        DatagramPacer roamed = new DatagramPacer();
        long at = 0;
        for (int read = 0; read <= 30; read++, at += 100 * MS) { // 3 s on a LAN
            PathStats lan = PathStats.of("198.51.100.7:5000", PathStats.VALIDATED, true, 300_000, MS, 0);
            rebound.onPath(lan, ActivePath.Move.NONE, at);
            roamed.onPath(lan, ActivePath.Move.NONE, at);
        }
        assertThat(rebound.longPath()).isFalse();
        rebound.onPath(PathStats.of("198.51.100.7:6000", PathStats.VALIDATED, true, 300_000, 50 * MS, 0),
                ActivePath.Move.NEW_PORT, at);
        roamed.onPath(PathStats.of("203.0.113.9:5000", PathStats.VALIDATED, true, 300_000, 50 * MS, 0),
                ActivePath.Move.NEW_ADDRESS, at);
        assertThat(rebound.bytesPerSecond()).as("the same network path, its loaded RTT: still a LAN").isZero();
        assertThat(roamed.bytesPerSecond()).as("300 kB per 50 ms on the new network").isEqualTo(6_000_000);
        assertThat(roamed.settled()).as("settling again").isFalse();
        assertThat(roamed.minRttNanos()).isEqualTo(50 * MS);
    }
}
