package dev.riscvrelay.relay.transport.webtransport;

import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import java.time.Duration;

/**
 * Limits of a {@link WebTransportServer}. Every resource a peer can make the server hold is bounded here.
 *
 * @param maxConnections QUIC connections at once; more are closed at once and counted
 * @param maxSessions WebTransport sessions at once over all connections; more are refused with 503
 * @param maxSessionsPerConnection sessions at once on one QUIC connection; more are refused with 429
 * @param sendQueueFrames frames waiting in one session's outbound queue; more are dropped and counted
 * @param idleTimeout QUIC idle timeout (RFC 9000 §10.1); the smaller of both peers' values applies
 * @param keepAliveInterval how often an open session sends a GREASE capsule so a quiet but alive peer is not
 *     timed out; {@link Duration#ZERO} disables it
 * @param udpPayloadSize the largest UDP payload sent (less where the link carries less) and received; 1472 is
 *     what browsers take and what a 1500-byte IPv4 link carries ({@link PathMtu#MAX_UDP_PAYLOAD})
 * @param datagramQueueLength quiche's receive and send queues of QUIC datagrams, per connection
 * @param receiveBufferBytes SO_RCVBUF of the UDP socket, so bursts survive while the event loop is busy
 * @param congestionControl quiche's congestion controller for what the server sends; see
 *     {@link #DEFAULT_CONGESTION_CONTROL}
 */
public record WebTransportServerConfig(
        int maxConnections,
        int maxSessions,
        int maxSessionsPerConnection,
        int sendQueueFrames,
        Duration idleTimeout,
        Duration keepAliveInterval,
        int udpPayloadSize,
        int datagramQueueLength,
        int receiveBufferBytes,
        QuicCongestionControlAlgorithm congestionControl) {

    /**
     * BBR: QUIC datagrams carry the VMs' own TCP, which already backs off on loss. CUBIC halves its window on every
     * lost packet too, so on a path with 1% loss the QUIC connection alone allows ~10 Mbit/s and drops the frames
     * beyond that; BBR paces at the measured bottleneck rate and keeps it under random loss.
     */
    public static final QuicCongestionControlAlgorithm DEFAULT_CONGESTION_CONTROL = QuicCongestionControlAlgorithm.BBR;

    public WebTransportServerConfig {
        positive("maxConnections", maxConnections);
        positive("maxSessions", maxSessions);
        positive("maxSessionsPerConnection", maxSessionsPerConnection);
        positive("sendQueueFrames", sendQueueFrames);
        positive("datagramQueueLength", datagramQueueLength);
        positive("receiveBufferBytes", receiveBufferBytes);
        java.util.Objects.requireNonNull(congestionControl, "congestionControl");
        if (udpPayloadSize < 1200 || udpPayloadSize > 65527) {
            throw new IllegalArgumentException("udpPayloadSize must be 1200..65527 (RFC 9000 §14): " + udpPayloadSize);
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be positive: " + idleTimeout);
        }
        if (keepAliveInterval.isNegative() || keepAliveInterval.compareTo(idleTimeout) >= 0) {
            throw new IllegalArgumentException("keepAliveInterval must be 0 (off) or shorter than the idle timeout: "
                    + keepAliveInterval);
        }
    }

    public static WebTransportServerConfig defaults() {
        return new WebTransportServerConfig(1024, 1024, 4, 1024, Duration.ofSeconds(30), Duration.ofSeconds(10),
                PathMtu.MAX_UDP_PAYLOAD, 1024, 4 * 1024 * 1024, DEFAULT_CONGESTION_CONTROL);
    }

    public WebTransportServerConfig withMaxSessions(int sessions, int perConnection) {
        return new WebTransportServerConfig(maxConnections, sessions, perConnection, sendQueueFrames, idleTimeout,
                keepAliveInterval, udpPayloadSize, datagramQueueLength, receiveBufferBytes, congestionControl);
    }

    public WebTransportServerConfig withMaxConnections(int connections) {
        return new WebTransportServerConfig(connections, maxSessions, maxSessionsPerConnection, sendQueueFrames,
                idleTimeout, keepAliveInterval, udpPayloadSize, datagramQueueLength, receiveBufferBytes, congestionControl);
    }

    public WebTransportServerConfig withTimeouts(Duration idle, Duration keepAlive) {
        return new WebTransportServerConfig(maxConnections, maxSessions, maxSessionsPerConnection, sendQueueFrames,
                idle, keepAlive, udpPayloadSize, datagramQueueLength, receiveBufferBytes, congestionControl);
    }

    public WebTransportServerConfig withDatagramQueueLength(int length) {
        return new WebTransportServerConfig(maxConnections, maxSessions, maxSessionsPerConnection, sendQueueFrames,
                idleTimeout, keepAliveInterval, udpPayloadSize, length, receiveBufferBytes, congestionControl);
    }

    private static void positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1: " + value);
        }
    }
}
