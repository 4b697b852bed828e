package dev.riscvrelay.relay.transport.webtransport;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Black-hole detection (RFC 8899 section 4.3) from a connection's packet counters. quiche keeps a validated packet
 * size even when the path stops carrying it (a tunnel comes up and filters its ICMP), so full-size packets would be
 * lost for good; a stalled TCP stream behind a connector then sends only a few retransmissions a second, each lost.
 * Over the last {@link #WINDOW_MILLIS}, at least {@link #MIN_LOST} packets lost and at least a quarter of all sent
 * (a lossy path loses a few percent) make a black hole. quiche's path statistics count lost packets but not their
 * bytes, so the sizes of the lost packets cannot be told apart.
 *
 * <p>Pure: the caller passes the time and the counters of each look.
 */
final class BlackHoleDetector {

    static final int MIN_LOST = 4;
    static final long WINDOW_MILLIS = 5_000;
    /** Looks closer together than this are not kept: the window holds at most about 25, however often one looks. */
    private static final long SPACING_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    /** The looks of the last window: when, packets sent, packets lost; the oldest first. */
    private final ArrayDeque<long[]> window = new ArrayDeque<>();
    private long lost;
    private long sent;

    /**
     * Records one look at {@code nowNanos} with the connection's cumulative counters; true when the window now
     * shows a black hole.
     */
    boolean look(long nowNanos, long sentTotal, long lostTotal) {
        long[] newest = window.peekLast();
        if (newest == null || nowNanos - newest[0] >= SPACING_NANOS) {
            window.addLast(new long[] {nowNanos, sentTotal, lostTotal});
        }
        while (nowNanos - window.peekFirst()[0] > TimeUnit.MILLISECONDS.toNanos(WINDOW_MILLIS)) {
            window.removeFirst();
        }
        long[] oldest = window.peekFirst();
        sent = sentTotal - oldest[1];
        lost = lostTotal - oldest[2];
        return lost >= MIN_LOST && 4 * lost >= sent;
    }

    /** What the last look saw, for a log line. */
    String describe() {
        return lost + " of " + sent + " packets lost in " + WINDOW_MILLIS / 1000 + " s";
    }
}
