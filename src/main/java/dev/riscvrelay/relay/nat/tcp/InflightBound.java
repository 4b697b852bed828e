package dev.riscvrelay.relay.nat.tcp;

import java.util.concurrent.TimeUnit;

/**
 * A bound on the bytes one direction of a connection keeps in flight: a gain times its bandwidth-delay product, from
 * that direction's own delivery rate and shortest round trip (BBR's in-flight cap; the congestion window, CUBIC's, is
 * otherwise unchanged), and at least a floor.
 *
 * <p>Without it only loss stops a window. On a clean path nothing is lost, so the window grows to whatever the far
 * end's receive buffer takes, and the excess waits in the queues between the relay and the VM: the QUIC connection's,
 * the client's socket, the TAP. Every other packet to or from that VM waits behind it: a ping to the gateway took
 * 1.3-1.9 ms during a download through {@code relay connect} across a clean link, and 0.3 ms idle. Bounded, the
 * queue holds about the gain less one bandwidth-delay product, and the path's rate is kept.
 *
 * <p>The rate is the bytes delivered over intervals of at least one shortest round trip (and a minimum interval, since
 * the deliveries of a burst arrive together), the largest of the last {@link #RATE_SAMPLES}. The shortest round trip
 * holds for {@link #MIN_RTT_LIFETIME_NANOS}; then the bound falls to its floor for {@link #PROBE_NANOS}, so that the
 * queue it allowed drains and the next shortest is the path's, not the queue's (BBR's PROBE_RTT). Until both are
 * known the bound is off. Owned by the connection's event loop; nothing is allocated after construction.
 */
final class InflightBound {

    /** How many rate samples the largest is taken from. */
    static final int RATE_SAMPLES = 10;
    /**
     * How long the shortest round trip holds before a probe looks for it again. A first sample taken while the
     * machine was slow (a handshake of 1.3 ms on a path of 0.13) allowed a queue whose round trips never undercut
     * it; a probe every 2 s costs about 1% of the rate.
     */
    static final long MIN_RTT_LIFETIME_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** How long a probe keeps the bound at its floor. */
    static final long PROBE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private final int floor;
    private final double gain;
    private final long minIntervalNanos;
    private long minRtt = Long.MAX_VALUE;
    private long minRttAt;
    private boolean probing;
    private long probeUntil;
    private long probeMinRtt;
    /** The last rate samples (bytes per second), a ring; the largest of them is {@link #maxRate}. */
    private final long[] rates = new long[RATE_SAMPLES];
    private int nextRate;
    private long maxRate;
    private boolean intervalOpen;
    private long intervalStart;
    private long intervalBytes;

    /**
     * @param gain the bound in bandwidth-delay products: above 1, the room the rate grows into per round trip
     * @param floor the least the bound allows, in bytes
     * @param minIntervalNanos the shortest interval a rate sample covers
     */
    InflightBound(double gain, int floor, long minIntervalNanos) {
        this.gain = gain;
        this.floor = floor;
        this.minIntervalNanos = minIntervalNanos;
    }

    /** A round trip of {@code rtt} nanoseconds, measured at {@code now}. */
    void onRtt(long rtt, long now) {
        if (rtt <= 0) {
            return;
        }
        if (probing) {
            probeMinRtt = Math.min(probeMinRtt, rtt);
        }
        if (rtt <= minRtt) {
            minRtt = rtt;
            minRttAt = now;
        }
    }

    /** {@code bytes} newly delivered at {@code now}. */
    void onDelivered(int bytes, long now) {
        if (!intervalOpen) {
            intervalOpen = true;
            intervalStart = now;
            intervalBytes = 0;
            return;
        }
        intervalBytes += bytes;
        long elapsed = now - intervalStart;
        if (minRtt == Long.MAX_VALUE || elapsed < Math.max(minRtt, minIntervalNanos)) {
            return;
        }
        rates[nextRate] = (long) (intervalBytes * 1e9 / elapsed);
        nextRate = (nextRate + 1) % RATE_SAMPLES;
        long max = 0;
        for (long rate : rates) {
            max = Math.max(max, rate);
        }
        maxRate = max;
        intervalStart = now;
        intervalBytes = 0;
    }

    /** Nothing is in flight: an idle spell is no interval, so the next delivery starts one. */
    void idle() {
        intervalOpen = false;
    }

    /** The most bytes in flight at {@code now}: {@link Integer#MAX_VALUE} while the path is not known yet. */
    int bound(long now) {
        if (minRtt == Long.MAX_VALUE || maxRate == 0) {
            return Integer.MAX_VALUE;
        }
        if (probing && now - probeUntil >= 0) {
            probing = false;
            if (probeMinRtt != Long.MAX_VALUE) {
                minRtt = probeMinRtt;
            }
            minRttAt = now;
        } else if (!probing && now - minRttAt > MIN_RTT_LIFETIME_NANOS) {
            probing = true;
            probeUntil = now + PROBE_NANOS;
            probeMinRtt = Long.MAX_VALUE;
        }
        if (probing) {
            return floor;
        }
        double bandwidthDelay = (double) maxRate * minRtt / 1e9;
        return (int) Math.min(Integer.MAX_VALUE, Math.max(floor, (long) (gain * bandwidthDelay)));
    }

    /** The shortest round trip in nanoseconds, {@link Long#MAX_VALUE} before any. */
    long minRttNanos() {
        return minRtt;
    }

    /** The largest recent delivery rate in bytes per second, 0 before any. */
    long maxRateBytesPerSecond() {
        return maxRate;
    }
}
