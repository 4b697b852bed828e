package dev.riscvrelay.relay.ops;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How the relay is operated, next to what it serves.
 *
 * @param admin where the admin HTTP server listens ({@code /metrics}, {@code /healthz}, {@code /cert-hash},
 *     {@code /pcap/*}); null: no admin server
 * @param pcapFile capture the LAN to this pcap file from the start; null: no capture until {@code /pcap/start}
 * @param captureDirectory where {@code /pcap/start} writes when no {@code pcapFile} is given
 * @param summaryInterval how often a one-line summary is logged; null: never
 */
public record OperationsConfig(InetSocketAddress admin, Path pcapFile, Path captureDirectory,
        Duration summaryInterval) {

    public static final int DEFAULT_ADMIN_PORT = 9433;
    public static final Duration DEFAULT_SUMMARY_INTERVAL = Duration.ofMinutes(1);

    /** No admin server, no capture, no summary: the relay as a library or a test runs it. */
    public static OperationsConfig off() {
        return new OperationsConfig(null, null, null, null);
    }
}
