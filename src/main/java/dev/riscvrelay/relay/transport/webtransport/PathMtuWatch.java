package dev.riscvrelay.relay.transport.webtransport;

import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionPathStats;
import io.netty.handler.codec.quic.QuicTransportParameters;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Follows quiche's path MTU discovery on one QUIC connection and turns the validated packet size into the largest
 * HTTP datagram the connection can carry now.
 *
 * <p>quiche sends 1200-byte packets until a larger probe is acknowledged (RFC 9000 §14.3, RFC 8899's search), and
 * Netty tells the datagram limit only once, at the handshake, computed from the size it may probe, not from the
 * size that is known to arrive. A datagram above the validated size would wait in quiche's queue or be purged
 * silently; so the sender keeps to {@link #maxDatagramLength()} and counts what does not fit. The validated size is
 * read from the path's statistics: often right after the handshake, then rarely, since quiche does not shrink it by
 * itself.
 */
final class PathMtuWatch {

    /** Reads while discovery usually runs: a probe per round trip, a few failures per size on a narrow path. */
    private static final long FAST_POLL_MILLIS = 5;
    private static final long FAST_POLL_FOR_MILLIS = 3_000;
    /** Until the ceiling is validated: discovery goes on while the connection has something to send. */
    private static final long SEARCH_POLL_MILLIS = 500;

    private final QuicChannel quic;
    private final int ceiling;
    private final int probeCeiling;
    private final IntConsumer onChange;
    private final Consumer<String> onBlackHole;
    private final long settledPollMillis;
    /** Once a size above 1200 is validated, a black hole makes the owner close; a new connection rediscovers. */
    private BlackHoleDetector blackHoles = new BlackHoleDetector();
    private final ActivePath path = new ActivePath();
    private final int connectionIdLength;
    /** When discovery began on the path in use: polling is fast for a while after. */
    private long startNanos = System.nanoTime();
    private int pathMtu = PathMtu.QUIC_MIN_UDP_PAYLOAD;
    private int maxDatagramLength;
    private ScheduledFuture<?> next;
    private boolean stopped;

    /**
     * Starts from QUIC's 1200-byte floor; call once the handshake is done (the peer's transport parameters bound
     * the datagram and the packet sizes).
     *
     * @param udpPayloadCeiling the largest UDP payload this side probes for; once validated, polling slows down
     * @param settledPollMillis how often to look once the ceiling is validated (and so how soon a black hole shows)
     * @param onChange called on the connection's event loop with the new datagram limit whenever it changes
     * @param onBlackHole called once, on the event loop, with what was seen, when most packets sent at a validated
     *     size above 1200 bytes got lost between two looks
     */
    PathMtuWatch(QuicChannel quic, int udpPayloadCeiling, long settledPollMillis, IntConsumer onChange,
            Consumer<String> onBlackHole) {
        this.quic = quic;
        QuicTransportParameters peer = quic.peerTransportParameters();
        // quiche subtracts a DATAGRAM frame's type and 2-byte length from the peer's max_datagram_frame_size.
        // (Netty reports -1 for a parameter it has not read.)
        this.ceiling = peer == null || peer.maxDatagramFrameSize() <= 3 ? Integer.MAX_VALUE
                : (int) Math.min(Integer.MAX_VALUE, peer.maxDatagramFrameSize() - 3);
        this.probeCeiling = peer == null || peer.maxUdpPayloadSize() <= 0 ? udpPayloadCeiling
                : (int) Math.min(udpPayloadCeiling, peer.maxUdpPayloadSize());
        this.onChange = onChange;
        this.onBlackHole = onBlackHole;
        this.settledPollMillis = settledPollMillis;
        this.connectionIdLength = PathMtu.connectionIdLength(quic.remoteAddress());
        this.maxDatagramLength = limitFor(pathMtu);
    }

    /** Starts reading (on the connection's event loop). */
    void start() {
        poll();
    }

    void stop() {
        stopped = true;
        if (next != null) {
            next.cancel(false);
        }
    }

    /** The largest HTTP datagram (prefix included) that fits the validated packet size. */
    int maxDatagramLength() {
        return maxDatagramLength;
    }

    /** Whether the largest size this side probes for (and the peer takes) has been validated. */
    boolean settled() {
        return pathMtu >= probeCeiling;
    }

    /** The validated UDP payload size of the path (1200 until a probe succeeded). */
    int pathMtu() {
        return pathMtu;
    }

    private int limitFor(int udpPayload) {
        return Math.min(ceiling, PathMtu.datagramPayload(udpPayload, connectionIdLength));
    }

    /** Records this look and reports a black hole once; true when it did. */
    private boolean blackHole(QuicConnectionPathStats stats) {
        if (!blackHoles.look(System.nanoTime(), stats.sent(), stats.lost())
                || pathMtu <= PathMtu.QUIC_MIN_UDP_PAYLOAD) {
            return false;
        }
        stopped = true;
        onBlackHole.accept(blackHoles.describe() + " at a validated packet size of " + pathMtu + " bytes");
        return true;
    }

    private void poll() {
        if (stopped || !quic.isActive()) {
            return;
        }
        if (!quic.eventLoop().inEventLoop()) {
            quic.eventLoop().execute(this::poll); // quiche answers at once on the connection's own loop
            return;
        }
        onStats(path.read(quic));
    }

    private void onStats(QuicConnectionPathStats stats) {
        if (stopped || stats == null) {
            return;
        }
        if (path.moved() != ActivePath.Move.NONE) {
            // The client's address changed: the new path has its own packet size and counts its packets from zero.
            blackHoles = new BlackHoleDetector();
            startNanos = System.nanoTime();
        }
        if (blackHole(stats)) {
            return;
        }
        int mtu = (int) Math.min(Integer.MAX_VALUE, stats.pmtu());
        if (mtu < PathMtu.QUIC_MIN_UDP_PAYLOAD) {
            mtu = PathMtu.QUIC_MIN_UDP_PAYLOAD; // not validated yet: QUIC's floor
        }
        if (mtu != pathMtu) {
            pathMtu = mtu;
            int limit = limitFor(mtu);
            if (limit != maxDatagramLength) {
                maxDatagramLength = limit;
                onChange.accept(limit);
            }
        }
        boolean early = System.nanoTime() - startNanos < TimeUnit.MILLISECONDS.toNanos(FAST_POLL_FOR_MILLIS);
        long delay = settled() ? settledPollMillis : early ? FAST_POLL_MILLIS : SEARCH_POLL_MILLIS;
        next = quic.eventLoop().schedule(this::poll, delay, TimeUnit.MILLISECONDS);
    }
}
