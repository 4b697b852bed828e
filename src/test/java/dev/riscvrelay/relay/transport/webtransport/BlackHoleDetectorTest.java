package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BlackHoleDetectorTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void aStalledStreamWhoseFewRetransmissionsAllVanishIsABlackHole() {
        BlackHoleDetector detector = new BlackHoleDetector();
        long sent = 1000;
        long lost = 0;
        assertThat(detector.look(0, sent, lost)).isFalse();
        // A keep-alive that gets through and two lost retransmissions a second, as a TCP stream stalls.
        boolean seen = false;
        int second = 0;
        while (!seen && second < 10) {
            second++;
            sent += 3;
            lost += 2;
            seen = detector.look(second * SECOND, sent, lost);
        }
        assertThat(seen).as("found within the window").isTrue();
        assertThat(second).isLessThanOrEqualTo(3);
        assertThat(detector.describe()).isEqualTo("4 of 6 packets lost in 5 s");
    }

    @Test
    void aLossyPathIsNoBlackHole() {
        BlackHoleDetector detector = new BlackHoleDetector();
        SplittableRandom random = new SplittableRandom(3);
        long sent = 0;
        long lost = 0;
        for (int look = 0; look < 600; look++) {
            for (int packet = 0; packet < 400; packet++) { // 400 packets a look, 3% lost
                sent++;
                if (random.nextDouble() < 0.03) {
                    lost++;
                }
            }
            assertThat(detector.look(look * SECOND, sent, lost)).as("look %d", look).isFalse();
        }
    }

    @Test
    void aFewLossesOnAQuietConnectionAreNoBlackHole() {
        BlackHoleDetector detector = new BlackHoleDetector();
        assertThat(detector.look(0, 10, 0)).isFalse();
        assertThat(detector.look(SECOND, 14, 3)).as("3 lost: below the minimum").isFalse();
        assertThat(detector.look(2 * SECOND, 40, 4)).as("4 of 30: under a quarter").isFalse();
    }

    @Test
    void looksEveryFewMillisecondsKeepTheSameWindow() {
        BlackHoleDetector detector = new BlackHoleDetector();
        long millisecond = TimeUnit.MILLISECONDS.toNanos(1);
        for (int look = 0; look < 3000; look++) { // 5 ms apart for 15 s, as while discovery runs
            assertThat(detector.look(look * 5 * millisecond, look * 10L, look / 50)).isFalse();
        }
        // 2 packets lost a second out of 2000 sent: no black hole. Then everything sent is lost: found within 2 s,
        // though the window still remembers seconds of good traffic.
        long sent = 2999 * 10L;
        long lost = 2999 / 50;
        int look = 0;
        boolean seen = false;
        while (!seen && look < 400) {
            look++;
            sent += 10;
            lost += 10;
            seen = detector.look((15_000 + look * 5L) * millisecond, sent, lost);
        }
        assertThat(seen).isTrue();
        assertThat(look * 5).as("milliseconds to find it").isLessThan(2000);
    }

    @Test
    void lossesOlderThanTheWindowAreForgotten() {
        BlackHoleDetector detector = new BlackHoleDetector();
        assertThat(detector.look(0, 0, 0)).isFalse();
        assertThat(detector.look(SECOND, 10, 3)).isFalse();
        // Seven seconds later one more loss: the old three are outside the 5-second window.
        assertThat(detector.look(8 * SECOND, 12, 4)).isFalse();
        assertThat(detector.look(9 * SECOND, 13, 5)).isFalse();
    }
}
