package dev.riscvrelay.relay.nat.tcp;

/**
 * CUBIC congestion control (RFC 9438) for the sender toward the VM, as Linux and most hosts run it. A loss leaves the
 * window at 0.7 of what it was rather than NewReno's half, and the window grows back along a cubic curve of the time
 * since the loss: fast while far below the window where the loss came, flat near it, probing beyond it. On short paths
 * Reno's growth (scaled to the smaller decrease, RFC 9438 section 4.3) is the floor. Across a 20 ms path at 100 Mbit/s
 * with a loss every few seconds, NewReno spent most of its time at half the path's rate, regrowing one segment per
 * round trip.
 *
 * <p>Windows are in bytes outside, in segments inside (the RFC's unit). No allocation; owned by the connection's loop.
 */
final class Cubic {

    /** RFC 9438's beta_cubic: the window kept at a congestion event. */
    static final double BETA = 0.7;
    /** RFC 9438's C: how fast the cubic curve leaves its plateau, in segments per second cubed. */
    static final double C = 0.4;
    /** RFC 9438 section 4.3's alpha_cubic: Reno's growth per round trip that matches BETA's decrease. */
    private static final double ALPHA = 3 * (1 - BETA) / (1 + BETA);

    private final int mss;
    /** The window (segments) before the last reduction; 0 before the first. */
    private double wMax;
    /** Seconds from the epoch's start until the curve reaches wMax. */
    private double k;
    /** When the current congestion avoidance epoch started (nanoseconds); meaningful while {@link #inEpoch}. */
    private long epochStart;
    private boolean inEpoch;
    /** Reno's window estimate for the Reno-friendly region (segments). */
    private double wEst;

    Cubic(int mss) {
        this.mss = mss;
    }

    /**
     * A congestion event (fast recovery, or a timeout) with a window of {@code cwnd} bytes and {@code flight} bytes in
     * flight: remembers the window, ends the epoch, and returns the new slow start threshold (RFC 9438 section 4.6).
     */
    int onCongestion(int cwnd, int flight) {
        double window = (double) cwnd / mss;
        // Fast convergence (section 4.7): a window that fell short of the last maximum gives up more of it, which
        // leaves room for a newer flow on the same path.
        wMax = window < wMax ? window * (1 + BETA) / 2 : window;
        inEpoch = false;
        return Math.max((int) (flight * BETA), 2 * mss);
    }

    /**
     * Congestion avoidance: the window after an ACK of {@code acked} bytes at {@code now}, from a window of
     * {@code cwnd} bytes, with {@code rttNanos} the smoothed round trip (0 when not yet measured).
     */
    int grow(int cwnd, int acked, long now, long rttNanos) {
        double window = (double) cwnd / mss;
        if (!inEpoch) {
            inEpoch = true;
            epochStart = now;
            if (window < wMax) {
                k = Math.cbrt((wMax - window) / C);
            } else {
                k = 0; // no loss yet, or already above it: the curve starts here
                wMax = window;
            }
            wEst = window;
        }
        double segmentsAcked = (double) acked / mss;
        double t = (now - epochStart) / 1e9;
        wEst += (wEst < wMax ? ALPHA : 1) * segmentsAcked / window;
        double next;
        if (curve(t) < wEst) {
            next = Math.max(window, wEst); // the Reno-friendly region (section 4.3)
        } else {
            // Concave or convex region (sections 4.4, 4.5): toward the curve one round trip ahead, at most 1.5x.
            double target = Math.min(Math.max(curve(t + rttNanos / 1e9), window), 1.5 * window);
            next = window + (target - window) * segmentsAcked / window;
        }
        return (int) Math.min(next * mss, Integer.MAX_VALUE);
    }

    /** W_cubic(t) in segments (RFC 9438 equation 1). */
    private double curve(double seconds) {
        double d = seconds - k;
        return C * d * d * d + wMax;
    }
}
