package dev.riscvrelay.relay.transport.webtransport;

import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionPathStats;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.function.IntFunction;

/**
 * Finds the statistics of the path a QUIC connection uses now. quiche keeps one path per address the peer came from:
 * when a client's NAT gives it a new source port, the server moves to a new path, with its own window, RTT, packet
 * counters and packet size, while the old path stays listed, at its position, and frozen.
 * Netty lists the paths by position only, so the position of the active one is remembered and looked for again when
 * it stops being active. Owned by the connection's event loop, where quiche answers at once.
 */
final class ActivePath {

    /** quiche keeps at most as many paths as the connection IDs it allows the peer; more are never looked at. */
    private static final int MAX_PATHS = 32;

    /** How the path in use changed since the last look. */
    enum Move {
        /** The same path. */
        NONE,
        /** The same peer address from another port: a NAT rebound it, and the network path is most likely the same. */
        NEW_PORT,
        /** Another peer address: the client roamed to another network. */
        NEW_ADDRESS
    }

    private int index;
    private InetSocketAddress peer;
    private Move move = Move.NONE;

    /**
     * The active path's statistics, or null when quiche gives none (the connection is closing). Each call costs one
     * call into quiche while the path stays, and one per listed path after it changed.
     */
    QuicConnectionPathStats read(QuicChannel quic) {
        return read(index -> at(quic, index));
    }

    /**
     * As {@link #read(QuicChannel)}, from {@code pathAt}: the statistics of the path at a position, or null past the
     * last one.
     */
    QuicConnectionPathStats read(IntFunction<QuicConnectionPathStats> pathAt) {
        QuicConnectionPathStats stats = pathAt.apply(index);
        if (stats == null || !stats.active()) {
            stats = null;
            for (int i = 0; i < MAX_PATHS && stats == null; i++) {
                QuicConnectionPathStats candidate = pathAt.apply(i);
                if (candidate == null) {
                    return null; // past the last path, and none active: the connection is closing
                }
                if (candidate.active()) {
                    index = i;
                    stats = candidate;
                }
            }
            if (stats == null) {
                return null;
            }
        }
        InetSocketAddress now = stats.peerAddress();
        if (peer != null && !peer.equals(now)) {
            move = Objects.equals(peer.getAddress(), now.getAddress()) && move != Move.NEW_ADDRESS ? Move.NEW_PORT
                    : Move.NEW_ADDRESS;
        }
        peer = now;
        return stats;
    }

    /**
     * Whether and how the connection moved to another path since the last call (the new path's counters, window and
     * RTT start afresh); clears the mark.
     */
    Move moved() {
        Move moved = move;
        move = Move.NONE;
        return moved;
    }

    /** Where the active path leads: the peer's address as this side sees it now (null before the first read). */
    InetSocketAddress peer() {
        return peer;
    }

    private static QuicConnectionPathStats at(QuicChannel quic, int index) {
        Future<QuicConnectionPathStats> stats = quic.collectPathStats(index);
        return stats.isSuccess() ? stats.getNow() : null;
    }
}
