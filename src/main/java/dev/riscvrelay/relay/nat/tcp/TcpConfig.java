package dev.riscvrelay.relay.nat.tcp;

import java.time.Duration;

/**
 * How the TCP NAT behaves; made once from the command line. The LAN MTU (and so the MSS the VM is told) comes
 * from {@link dev.riscvrelay.relay.lan.NetworkConfig#mtu()}.
 *
 * @param maxConnectionsPerVm most TCP connections one VM (source MAC) may hold; more SYNs are answered with RST
 * @param maxConnections most TCP connections in total (each is one host socket)
 * @param connectTimeout how long a host connect may take; then the VM gets ICMP host unreachable
 * @param idleTimeout how long a connection lives with no segment from the VM and no data from the host
 * @param timeWait how long a connection the VM closed last lingers to re-acknowledge a retransmitted FIN
 *     (RFC 9293 asks 2 MSL; the LAN is one hop, so a short time suffices)
 * @param sendBufferBytes most bytes read from a host socket and not yet acknowledged by the VM; the socket is not
 *     read while this is full
 * @param receiveWindowBytes the window offered to the VM: most bytes accepted from the VM and not yet written to
 *     the host socket; the VM is not acknowledged beyond it
 * @param minRto the smallest retransmission timeout (RFC 6298 says 1 s; a LAN path one hop away takes Linux's
 *     200 ms)
 * @param maxRto the largest retransmission timeout after backing off
 * @param maxRetransmissions consecutive timeouts without progress after which the connection is reset
 * @param outOfOrderSegments most segments from the VM held while a gap before them is outstanding
 */
public record TcpConfig(
        int maxConnectionsPerVm,
        int maxConnections,
        Duration connectTimeout,
        Duration idleTimeout,
        Duration timeWait,
        int sendBufferBytes,
        int receiveWindowBytes,
        Duration minRto,
        Duration maxRto,
        int maxRetransmissions,
        int outOfOrderSegments) {

    public static final int DEFAULT_MAX_CONNECTIONS_PER_VM = 512;
    public static final int DEFAULT_MAX_CONNECTIONS = 8192;
    public static final int DEFAULT_CONNECT_TIMEOUT_SECONDS = 20;
    public static final int DEFAULT_IDLE_TIMEOUT_SECONDS = 7200;
    public static final int DEFAULT_TIME_WAIT_MILLIS = 2000;
    public static final int DEFAULT_SEND_BUFFER_BYTES = 1 << 20;
    public static final int DEFAULT_RECEIVE_WINDOW_BYTES = 1 << 20;
    public static final int DEFAULT_MIN_RTO_MILLIS = 200;
    public static final int DEFAULT_MAX_RTO_SECONDS = 60;
    public static final int DEFAULT_MAX_RETRANSMISSIONS = 10;
    /**
     * Enough to hold a whole receive window of 1 KiB segments: a segment lost in a window of hundreds (a lossy path
     * behind relay connect) otherwise made the relay drop all it could not hold, and the VM saw a burst of losses.
     */
    public static final int DEFAULT_OUT_OF_ORDER_SEGMENTS = 1024;

    public TcpConfig {
        if (maxConnectionsPerVm < 1 || maxConnections < 1) {
            throw new IllegalArgumentException("connection limits must be positive");
        }
        if (sendBufferBytes < 4096 || receiveWindowBytes < 4096 || receiveWindowBytes > (1 << 30)) {
            throw new IllegalArgumentException("buffers must be 4 KiB..1 GiB");
        }
        if (minRto.isNegative() || minRto.isZero() || maxRto.compareTo(minRto) < 0) {
            throw new IllegalArgumentException("need 0 < minRto <= maxRto");
        }
        if (maxRetransmissions < 1 || outOfOrderSegments < 0) {
            throw new IllegalArgumentException("maxRetransmissions must be positive, outOfOrderSegments >= 0");
        }
    }

    public static TcpConfig defaults() {
        return new TcpConfig(DEFAULT_MAX_CONNECTIONS_PER_VM, DEFAULT_MAX_CONNECTIONS,
                Duration.ofSeconds(DEFAULT_CONNECT_TIMEOUT_SECONDS), Duration.ofSeconds(DEFAULT_IDLE_TIMEOUT_SECONDS),
                Duration.ofMillis(DEFAULT_TIME_WAIT_MILLIS), DEFAULT_SEND_BUFFER_BYTES,
                DEFAULT_RECEIVE_WINDOW_BYTES, Duration.ofMillis(DEFAULT_MIN_RTO_MILLIS),
                Duration.ofSeconds(DEFAULT_MAX_RTO_SECONDS), DEFAULT_MAX_RETRANSMISSIONS,
                DEFAULT_OUT_OF_ORDER_SEGMENTS);
    }

    public TcpConfig withLimits(int perVm, int total) {
        return new TcpConfig(perVm, total, connectTimeout, idleTimeout, timeWait, sendBufferBytes,
                receiveWindowBytes, minRto, maxRto, maxRetransmissions, outOfOrderSegments);
    }

    public TcpConfig withTimeouts(Duration connect, Duration idle, int retransmissions) {
        return new TcpConfig(maxConnectionsPerVm, maxConnections, connect, idle, timeWait, sendBufferBytes,
                receiveWindowBytes, minRto, maxRto, retransmissions, outOfOrderSegments);
    }

    /** The window scale shift the NAT offers: the smallest that lets the 16-bit field carry the whole window. */
    public int receiveWindowScale() {
        int shift = 0;
        while ((receiveWindowBytes >>> shift) > 0xFFFF) {
            shift++;
        }
        return shift;
    }
}
