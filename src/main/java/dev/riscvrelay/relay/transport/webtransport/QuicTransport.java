package dev.riscvrelay.relay.transport.webtransport;

import io.netty.handler.codec.quic.QuicCodecBuilder;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** The QUIC settings the relay's server and its client share: packet sizes, datagrams, flow control, pacing. */
final class QuicTransport {

    private QuicTransport() {
    }

    /**
     * Applies the shared settings to a server's or a client's codec builder.
     *
     * @param sendUdpPayload the largest UDP payload this side sends (what its route carries); packets start at 1200
     *     bytes and grow to it once a probe of that size got through (DPLPMTUD, RFC 9000 §14.3)
     * @param receiveUdpPayload the largest UDP payload the peer may send us
     */
    static <B extends QuicCodecBuilder<B>> B configure(B builder, Duration idleTimeout, int sendUdpPayload,
            int receiveUdpPayload, QuicCongestionControlAlgorithm congestionControl, int datagramQueueLength) {
        return builder
                .maxIdleTimeout(idleTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .maxSendUdpPayloadSize(sendUdpPayload)
                .maxRecvUdpPayloadSize(receiveUdpPayload)
                .discoverPmtu(true)
                .congestionControlAlgorithm(congestionControl)
                // Without the max_datagram_frame_size transport parameter browsers open the session but report
                // maxDatagramSize 0 and send nothing.
                .datagram(datagramQueueLength, datagramQueueLength)
                .initialMaxData(4 * 1024 * 1024)
                .initialMaxStreamDataBidirectionalLocal(256 * 1024)
                .initialMaxStreamDataBidirectionalRemote(256 * 1024);
    }
}
