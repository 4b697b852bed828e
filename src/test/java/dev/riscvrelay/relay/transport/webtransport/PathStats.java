package dev.riscvrelay.relay.transport.webtransport;

import io.netty.handler.codec.quic.QuicConnectionPathStats;
import java.net.InetSocketAddress;

/** One path's statistics as quiche reports them, for tests of what reads them. */
record PathStats(InetSocketAddress localAddress, InetSocketAddress peerAddress, long validationState, boolean active,
        long recv, long sent, long lost, long retrans, long rtt, long cwnd, long sentBytes, long recvBytes,
        long lostBytes, long streamRetransBytes, long pmtu, long deliveryRate) implements QuicConnectionPathStats {

    /** quiche's path states: the address answered its challenge, and the path is fully validated. */
    static final long VALIDATING = 1;
    static final long VALIDATED = 3;
    /** quiche's RTT of a path before its first sample. */
    static final long INITIAL_RTT_NANOS = 333_000_000L;

    /** A path to {@code peer} (host:port) in {@code state}, active or not, with this window, RTT and delivery rate. */
    static PathStats of(String peer, long state, boolean active, long cwnd, long rtt, long deliveryRate) {
        int colon = peer.lastIndexOf(':');
        InetSocketAddress address = new InetSocketAddress(peer.substring(0, colon),
                Integer.parseInt(peer.substring(colon + 1)));
        return new PathStats(new InetSocketAddress("0.0.0.0", 4433), address, state, active, 0, 0, 0, 0, rtt, cwnd,
                0, 0, 0, 0, 1472, deliveryRate);
    }
}
