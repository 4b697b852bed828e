package dev.riscvrelay.relay;

import java.net.InetAddress;
import java.time.Duration;

/**
 * Everything the relay is configured with, made once from the command line.
 *
 * @param bind address the UDP socket listens on
 * @param port UDP port (0 picks a free one)
 * @param maxSessions most WebTransport sessions at once; more are refused and counted
 * @param portQueueFrames bound of each session's outbound queue
 * @param macTableSize most MAC addresses the switch remembers
 * @param macAging how long an unused MAC entry lives
 * @param idleTimeout how long a silent QUIC connection lives
 * @param web the WebSocket transport and the demo web server
 */
public record RelayConfig(
        InetAddress bind,
        int port,
        int maxSessions,
        int portQueueFrames,
        int macTableSize,
        Duration macAging,
        Duration idleTimeout,
        WebOptions web) {

    public static final int DEFAULT_MAX_SESSIONS = 1024;
    public static final int DEFAULT_PORT_QUEUE = 1024;
    public static final int DEFAULT_MAC_TABLE_SIZE = 4096;
    public static final int DEFAULT_MAC_AGING_SECONDS = 300;
    public static final int DEFAULT_IDLE_TIMEOUT_SECONDS = 30;

    /** The defaults on a given address and port. */
    public static RelayConfig defaults(InetAddress bind, int port) {
        return new RelayConfig(bind, port, DEFAULT_MAX_SESSIONS, DEFAULT_PORT_QUEUE, DEFAULT_MAC_TABLE_SIZE,
                Duration.ofSeconds(DEFAULT_MAC_AGING_SECONDS), Duration.ofSeconds(DEFAULT_IDLE_TIMEOUT_SECONDS),
                WebOptions.defaults());
    }
}
