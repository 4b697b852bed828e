package dev.riscvrelay.relay.transport.webtransport;

import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionPathStats;
import java.util.concurrent.TimeUnit;

/**
 * Paces one connection's datagrams into QUIC at about its congestion window per round trip. Quiche computes when each
 * packet should leave, but Netty writes every packet at once, so a burst the switch forwarded (a VM's TCP answering
 * one merged ACK with a hundred segments) left at the speed of the local link and overflowed the first shallow queue
 * on the path though the window had room: behind a 100 Mbit/s link with a 256 KiB queue, two 50 MiB downloads lost
 * 1,522 datagrams in that queue against 807 to the link's random loss. Spread over the round trip, a burst leaves at
 * about twice the path's rate (BBR's window is two bandwidth-delay products) and the queue takes it.
 *
 * <p>A token bucket: the rate comes from the statistics of the path in use ({@link ActivePath}: window, smoothed
 * RTT and delivery rate, read at most every {@link #STATS_INTERVAL_NANOS}); the bucket holds {@link #BURST_NANOS} of
 * the rate, and at least {@link #MIN_BURST_BYTES}. Nothing is paced until the first statistics, while the RTT is
 * unknown (a path the client just moved to), on a short path ({@link #MIN_PACED_RTT_NANOS}), or while the window is
 * small ({@link #MIN_PACED_WINDOW_BYTES}) in a connection's first {@link #SETTLING_NANOS} of traffic. Owned by the
 * connection's event loop. Nothing is allocated per datagram; each read of the statistics allocates Netty's answer
 * (at most every {@link #STATS_INTERVAL_NANOS} while paced, every {@link #UNPACED_STATS_INTERVAL_NANOS} otherwise).
 */
final class DatagramPacer {

    /** How often the rate is refreshed from quiche's statistics while datagrams flow on a paced path. */
    static final long STATS_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /** How often an unpaced path's statistics are read while datagrams flow (each read costs a call into quiche). */
    static final long UNPACED_STATS_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** How much of the rate leaves back to back. */
    static final long BURST_NANOS = TimeUnit.MICROSECONDS.toNanos(1000);
    /** The bucket holds at least this much: a few datagrams go together however slow the path. */
    static final long MIN_BURST_BYTES = 16 * 1024;
    /**
     * Connections whose shortest smoothed round trip so far is below this are not paced: a LAN or a machine's own
     * links, where the RTT is mostly the hosts' own scheduling (1 to 6 ms between two connectors on this 2-core test
     * bed under load) and BBR's window a few packets, so that a window per round trip understates what the path
     * takes by ten times. The shortest is kept for the connection's life: a loaded LAN must not turn paced.
     */
    static final long MIN_PACED_RTT_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /**
     * Windows below this are not paced during a connection's first {@link #SETTLING_NANOS} of traffic, while the
     * smoothed RTT may still carry the handshake of cold processes (55 ms falling to 10 over 1.5 s between two
     * connectors here) and a LAN would be paced at a tenth of its rate.
     */
    static final long MIN_PACED_WINDOW_BYTES = 64 * 1024;
    /**
     * Traffic after which the RTT is the path's own, and a small window on a long path is paced too. Unpaced, the
     * datagrams beyond QUIC's window wait in quiche's own queue (up to {@link DatagramBacklog}'s bound), and link
     * recovery's resends wait behind them: across 1% loss with BBR's window at 30 to 60 KB, a repair can take longer
     * than the 150 ms a hole may wait, and each hole given up is a loss for the TCP inside. Paced, they wait in the
     * session's queue, and resends overtake them.
     */
    static final long SETTLING_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** Below this no timer is worth it: the next loop turn is soon enough. */
    private static final long MIN_DELAY_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

    /** quiche's path state ValidatingMTU: the peer answered the path challenge, so the path has RTT samples. */
    private static final long PATH_ADDRESS_VALIDATED = 2;

    private final ActivePath path = new ActivePath();
    /** Whether the connection moved to a path whose address is not validated yet. */
    private boolean validating;
    /** Bytes per second; 0 while unpaced. */
    private long rate;
    private long tokens;
    private long refilledAt;
    /** When the statistics were last read (or a read was tried). */
    private long statsAt = Long.MIN_VALUE;
    private long minRtt = Long.MAX_VALUE;
    /**
     * Time with traffic so far: statistics are read only while datagrams flow, so the gaps between reads, each
     * counted at most {@link #UNPACED_STATS_INTERVAL_NANOS}, add up to it and an idle spell adds nothing.
     */
    private long trafficNanos;

    /**
     * Refreshes the rate from {@code quic}'s active path when it is due at {@code now}. On the connection's loop
     * quiche answers at once; a failed or late answer keeps the rate as it was.
     */
    void refresh(QuicChannel quic, long now) {
        long interval = rate == 0 ? UNPACED_STATS_INTERVAL_NANOS : STATS_INTERVAL_NANOS;
        if (statsAt != Long.MIN_VALUE && now - statsAt < interval) {
            return;
        }
        QuicConnectionPathStats stats = path.read(quic);
        if (stats == null) {
            statsAt = now;
            return;
        }
        onPath(stats, path.moved(), now);
    }

    /** The statistics of the active path at {@code now}, and how the connection moved since the last ones. */
    void onPath(QuicConnectionPathStats stats, ActivePath.Move move, long now) {
        if (move != ActivePath.Move.NONE) {
            newPath(move == ActivePath.Move.NEW_ADDRESS);
        }
        // Until a new path's address is validated, quiche has no RTT sample of it and reports its initial 333 ms.
        boolean rttKnown = !validating || stats.validationState() >= PATH_ADDRESS_VALIDATED;
        validating = !rttKnown;
        onStats(stats.cwnd(), rttKnown ? stats.rtt() : 0, stats.deliveryRate(), now); // rtt() is in nanoseconds
    }

    /**
     * The connection moved to another path: unpaced until that path's RTT is known. A NAT that rebound the client's
     * port leaves the network path as it was (RFC 9000 section 9.4), so the shortest RTT seen still holds; a client
     * on another address roamed, and its path settles as a new connection's does.
     */
    private void newPath(boolean newAddress) {
        rate = 0;
        validating = true;
        if (newAddress) {
            minRtt = Long.MAX_VALUE;
            trafficNanos = 0;
        }
    }

    /**
     * The path's congestion window (bytes), smoothed RTT (nanoseconds) and estimated delivery rate (bytes per second)
     * at {@code now}: the rate is a window per round trip, and at least 1.25 times the delivery rate, so that QUIC's
     * own probing for more bandwidth (BBR's 1.25 gain) is never held back to what was delivered before. An unknown
     * RTT (0), a connection whose shortest RTT so far is below {@link #MIN_PACED_RTT_NANOS}, or a window below
     * {@link #MIN_PACED_WINDOW_BYTES} in the first {@link #SETTLING_NANOS} of traffic unpaces.
     */
    void onStats(long cwndBytes, long rttNanos, long deliveryRate, long now) {
        if (statsAt != Long.MIN_VALUE) {
            trafficNanos += Math.min(now - statsAt, UNPACED_STATS_INTERVAL_NANOS);
        }
        statsAt = now;
        if (rttNanos <= 0 || cwndBytes <= 0) {
            rate = 0;
            return;
        }
        minRtt = Math.min(minRtt, rttNanos);
        if (minRtt < MIN_PACED_RTT_NANOS
                || (cwndBytes < MIN_PACED_WINDOW_BYTES && trafficNanos < SETTLING_NANOS)) {
            rate = 0;
            return;
        }
        long next = Math.max((long) (cwndBytes * 1e9 / rttNanos), deliveryRate + deliveryRate / 4);
        if (rate == 0) {
            tokens = burst(next);
            refilledAt = now;
        }
        rate = next;
    }

    /** Whether a datagram may go at {@code now}; tokens may go into debt by one datagram. */
    boolean maySend(long now) {
        if (rate == 0) {
            return true;
        }
        long elapsed = now - refilledAt;
        if (elapsed > 0) {
            tokens = Math.min(burst(rate), tokens + (long) (elapsed * (rate / 1e9)));
            refilledAt = now;
        }
        return tokens > 0;
    }

    /** A datagram of {@code bytes} went. */
    void sent(int bytes) {
        if (rate != 0) {
            tokens -= bytes;
        }
    }

    /**
     * How long until the bucket is half full again (0: go at the next loop turn): the next flush then writes a batch,
     * not a datagram or two.
     */
    long delayNanos() {
        if (rate == 0 || tokens > 0) {
            return 0;
        }
        long delay = (long) ((burst(rate) / 2 - tokens) * 1e9 / rate);
        return delay < MIN_DELAY_NANOS ? 0 : delay;
    }

    long bytesPerSecond() {
        return rate;
    }

    /** The shortest smoothed RTT seen so far in nanoseconds, or {@link Long#MAX_VALUE} before any. */
    long minRttNanos() {
        return minRtt;
    }

    /**
     * Whether {@link #SETTLING_NANOS} of traffic have passed: before, the smoothed RTT may still carry the handshake
     * of cold processes (46 to 57 ms on a link of 0.1 ms here) and says nothing of the path.
     */
    boolean settled() {
        return trafficNanos >= SETTLING_NANOS;
    }

    /**
     * Whether the path is a long one, where datagrams are paced: once {@link #settled()}, its shortest RTT so far is
     * {@link #MIN_PACED_RTT_NANOS} or more.
     */
    boolean longPath() {
        return settled() && minRtt >= MIN_PACED_RTT_NANOS;
    }

    private static long burst(long rate) {
        return Math.max(MIN_BURST_BYTES, (long) (rate * (BURST_NANOS / 1e9)));
    }
}
