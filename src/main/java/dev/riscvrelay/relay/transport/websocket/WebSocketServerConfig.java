package dev.riscvrelay.relay.transport.websocket;

import java.time.Duration;

/**
 * Limits of a {@link WebSocketServer}; every resource a peer can make it hold is bounded here.
 *
 * @param tls whether connections speak TLS with the relay's certificate ({@code wss://}) or plain ({@code ws://})
 * @param maxConnections connections at once (HTTP or WebSocket); more are closed at once and counted
 * @param sendQueueFrames frames waiting in one connection's outbound queue; more are dropped and counted
 * @param maxFrameSize the largest Ethernet frame (header included, no FCS) a binary message may carry, both ways;
 *     a larger incoming message closes the connection with 1009 (RFC 6455 §7.4.1)
 * @param handshakeTimeout how long a connection may take to finish its upgrade
 */
public record WebSocketServerConfig(
        boolean tls,
        int maxConnections,
        int sendQueueFrames,
        int maxFrameSize,
        Duration handshakeTimeout) {

    /** 1500-byte MTU + 14-byte header + a VLAN tag. */
    public static final int DEFAULT_MAX_FRAME_SIZE = 1518;

    public WebSocketServerConfig {
        if (maxConnections < 1 || sendQueueFrames < 1) {
            throw new IllegalArgumentException("maxConnections and sendQueueFrames must be at least 1");
        }
        if (maxFrameSize < 64 || maxFrameSize > 65535) {
            throw new IllegalArgumentException("maxFrameSize must be 64..65535: " + maxFrameSize);
        }
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshakeTimeout must be positive: " + handshakeTimeout);
        }
    }

    public static WebSocketServerConfig defaults(boolean tls) {
        return new WebSocketServerConfig(tls, 1024, 256, DEFAULT_MAX_FRAME_SIZE, Duration.ofSeconds(10));
    }

    public WebSocketServerConfig withLimits(int connections, int queueFrames) {
        return new WebSocketServerConfig(tls, connections, queueFrames, maxFrameSize, handshakeTimeout);
    }
}
