package dev.riscvrelay.relay.transport.webtransport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.handler.codec.quic.QuicCodecBuilder;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** The QUIC settings the relay's server and its client share: packet sizes, datagrams, flow control, pacing. */
final class QuicTransport {

    /** RFC 9002 section 7.2's initial window: ten packets. */
    static final int RFC_9002_INITIAL_WINDOW_PACKETS = 10;
    /**
     * Quiche's BBR (BBRv2 from Google's QUIC) takes its initial window as the floor its congestion window never goes
     * below, and under random loss it can sit on that floor for good: across 1% loss at 20 ms a connector's window
     * stayed at ten packets (14,720 bytes, 5.6 Mbit/s) through a whole 45 s upload, and the frames waiting in quiche's
     * datagram queue delayed link recovery's resends until they were given up. 256 packets (376 KB at 1472 bytes)
     * carry 150 Mbit/s at 20 ms. What the tunnel carries is the VMs' own TCP, which answers congestion itself: loss
     * beyond link recovery's budget reaches it, as through a VPN that has no congestion control of its own.
     */
    static final int BBR_WINDOW_FLOOR_PACKETS = 256;

    /** One read's buffer with UDP GRO on: the largest burst the kernel coalesces (64 KiB of datagrams). */
    static final int GRO_READ_BYTES = 65536;

    private QuicTransport() {
    }

    /**
     * Makes an epoll UDP socket take a peer's GSO burst in one recvmsg (UDP GRO), which Netty splits back into
     * datagrams, instead of a system call and a segmented skb per datagram; at most {@code datagramsPerRead} of them
     * (and the rest of a burst begun) per loop turn.
     */
    static Bootstrap readBursts(Bootstrap bootstrap, int datagramsPerRead) {
        return bootstrap.option(EpollChannelOption.UDP_GRO, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR,
                        new FixedRecvByteBufAllocator(GRO_READ_BYTES).maxMessagesPerRead(datagramsPerRead));
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
                .initialCongestionWindowPackets(congestionControl == QuicCongestionControlAlgorithm.BBR
                        ? BBR_WINDOW_FLOOR_PACKETS : RFC_9002_INITIAL_WINDOW_PACKETS)
                // Without the max_datagram_frame_size transport parameter browsers open the session but report
                // maxDatagramSize 0 and send nothing.
                .datagram(datagramQueueLength, datagramQueueLength)
                .initialMaxData(4 * 1024 * 1024)
                .initialMaxStreamDataBidirectionalLocal(256 * 1024)
                .initialMaxStreamDataBidirectionalRemote(256 * 1024);
    }
}
