package dev.riscvrelay.relay.transport.webtransport;

import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;

/**
 * How a {@link WebTransportClient} connects.
 *
 * @param certificateSha256Hex SHA-256 of the server's DER certificate in hex (colons allowed), checked instead of
 *     a CA chain as browsers do with {@code serverCertificateHashes}; null to trust the JDK's CAs and check the name
 * @param origin the {@code origin} header sent with the CONNECT, as a browser page would
 * @param connectTimeout how long the handshake, SETTINGS and CONNECT may take together
 * @param idleTimeout QUIC idle timeout offered to the server
 * @param keepAliveInterval how often a quiet session sends a GREASE capsule; {@link Duration#ZERO} disables it
 * @param udpPayloadSize largest UDP payload sent (less where the route carries less) and received
 * @param datagramQueueLength quiche's QUIC datagram receive and send queue lengths
 * @param maxPendingHandoffs frames other threads may have in flight to the event loop before more are dropped
 * @param congestionControl quiche's congestion controller for what the client sends (see
 *     {@link WebTransportServerConfig#DEFAULT_CONGESTION_CONTROL})
 * @param linkRecovery ask the server for {@link LinkRecovery link recovery} at the CONNECT (used when it agrees)
 * @param flushEveryDatagrams send written datagrams once this many wait, before the end of the loop turn; 0 sends
 *     them only at the end of the turn (see {@link #CONNECTOR_FLUSH_EVERY_DATAGRAMS})
 */
public record WebTransportClientConfig(
        String certificateSha256Hex,
        String origin,
        Duration connectTimeout,
        Duration idleTimeout,
        Duration keepAliveInterval,
        int udpPayloadSize,
        int datagramQueueLength,
        int maxPendingHandoffs,
        QuicCongestionControlAlgorithm congestionControl,
        boolean linkRecovery,
        int flushEveryDatagrams) {

    /**
     * What {@code relay connect} flushes at (a GSO send of 16). It reads its TAP in bursts of up to 64 frames, and the
     * relay acknowledges a burst's TCP segments only once it has them all: sent whole, an upload waited for that round
     * trip every window. In alternating uploads through the relay's NAT, 16 gave 0.97-1.02 Gbit/s against 0.78 with a
     * send per burst, and the pings alongside were no slower; 8 gave 0.89-0.92, 12 and 24 0.93-1.00.
     */
    public static final int CONNECTOR_FLUSH_EVERY_DATAGRAMS = 16;

    public WebTransportClientConfig(String certificateSha256Hex, String origin, Duration connectTimeout,
            Duration idleTimeout, Duration keepAliveInterval, int udpPayloadSize, int datagramQueueLength,
            int maxPendingHandoffs, QuicCongestionControlAlgorithm congestionControl, boolean linkRecovery) {
        this(certificateSha256Hex, origin, connectTimeout, idleTimeout, keepAliveInterval, udpPayloadSize,
                datagramQueueLength, maxPendingHandoffs, congestionControl, linkRecovery, 0);
    }

    public WebTransportClientConfig(String certificateSha256Hex, String origin, Duration connectTimeout,
            Duration idleTimeout, Duration keepAliveInterval, int udpPayloadSize, int datagramQueueLength,
            int maxPendingHandoffs, QuicCongestionControlAlgorithm congestionControl) {
        this(certificateSha256Hex, origin, connectTimeout, idleTimeout, keepAliveInterval, udpPayloadSize,
                datagramQueueLength, maxPendingHandoffs, congestionControl, false);
    }

    public WebTransportClientConfig(String certificateSha256Hex, String origin, Duration connectTimeout,
            Duration idleTimeout, Duration keepAliveInterval, int udpPayloadSize, int datagramQueueLength,
            int maxPendingHandoffs) {
        this(certificateSha256Hex, origin, connectTimeout, idleTimeout, keepAliveInterval, udpPayloadSize,
                datagramQueueLength, maxPendingHandoffs, WebTransportServerConfig.DEFAULT_CONGESTION_CONTROL);
    }

    public WebTransportClientConfig {
        java.util.Objects.requireNonNull(congestionControl, "congestionControl");
        if (certificateSha256Hex != null) {
            certificateSha256Hex = certificateSha256Hex.replace(":", "").toLowerCase(Locale.ROOT);
            if (certificateSha256Hex.length() != 64 || !certificateSha256Hex.chars().allMatch(HexFormat::isHexDigit)) {
                throw new IllegalArgumentException("a SHA-256 certificate hash is 64 hex digits: "
                        + certificateSha256Hex);
            }
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive: " + connectTimeout);
        }
        if (keepAliveInterval.isNegative() || keepAliveInterval.compareTo(idleTimeout) >= 0) {
            throw new IllegalArgumentException("keepAliveInterval must be 0 (off) or shorter than the idle timeout");
        }
        if (flushEveryDatagrams < 0) {
            throw new IllegalArgumentException("flushEveryDatagrams must be 0 (end of turn) or more: "
                    + flushEveryDatagrams);
        }
    }

    /** Trust the server whose certificate has this SHA-256 hash (what the relay prints at start). */
    public static WebTransportClientConfig pinned(String certificateSha256Hex) {
        return new WebTransportClientConfig(certificateSha256Hex, "https://riscv-relay.invalid",
                Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(10), PathMtu.MAX_UDP_PAYLOAD, 1024,
                4096);
    }

    /** Trust the server through the JDK's certificate authorities and its host name. */
    public static WebTransportClientConfig systemTrust() {
        return pinned(null);
    }

    public WebTransportClientConfig withConnectTimeout(Duration timeout) {
        return new WebTransportClientConfig(certificateSha256Hex, origin, timeout, idleTimeout, keepAliveInterval,
                udpPayloadSize, datagramQueueLength, maxPendingHandoffs, congestionControl, linkRecovery,
                flushEveryDatagrams);
    }

    public WebTransportClientConfig withCongestionControl(QuicCongestionControlAlgorithm algorithm) {
        return new WebTransportClientConfig(certificateSha256Hex, origin, connectTimeout, idleTimeout,
                keepAliveInterval, udpPayloadSize, datagramQueueLength, maxPendingHandoffs, algorithm, linkRecovery,
                flushEveryDatagrams);
    }

    public WebTransportClientConfig withLinkRecovery(boolean recovery) {
        return new WebTransportClientConfig(certificateSha256Hex, origin, connectTimeout, idleTimeout,
                keepAliveInterval, udpPayloadSize, datagramQueueLength, maxPendingHandoffs, congestionControl, recovery,
                flushEveryDatagrams);
    }
}
