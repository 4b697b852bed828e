package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.SegmentedDatagramPacket;
import java.util.Locale;

/**
 * Counts every QUIC packet the kernel refused to send, by reason, on a UDP socket's pipeline (in front of the QUIC
 * codec, which writes without looking at the outcome). QUIC recovers the loss, but a packet refused again and again
 * (EMSGSIZE: larger than the link; ENOBUFS: the socket's or the device's queue full) is a fault an operator must see.
 * A GSO write counts one per packet it carried.
 */
@ChannelHandler.Sharable
final class UdpSendErrors extends ChannelOutboundHandlerAdapter {

    private static final int EMSGSIZE = 90;
    private static final int ENOBUFS = 105;
    private static final int EAGAIN = 11;

    private final Counters counters;

    UdpSendErrors(Counters counters) {
        this.counters = counters;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!promise.isVoid() && msg instanceof DatagramPacket packet) {
            int packets = packetsIn(packet);
            // One listener object per write, only for writes whose outcome Netty reports (the QUIC codec's are).
            promise.addListener(new Outcome(packets));
        }
        ctx.write(msg, promise);
    }

    private static int packetsIn(DatagramPacket packet) {
        if (packet instanceof SegmentedDatagramPacket segmented && segmented.segmentSize() > 0) {
            int length = segmented.content().readableBytes();
            return Math.max(1, (length + segmented.segmentSize() - 1) / segmented.segmentSize());
        }
        return 1;
    }

    /** Which counter a failed send belongs to. */
    static Counter reasonOf(Throwable cause) {
        if (cause instanceof Errors.NativeIoException nativeError) {
            int errno = Math.abs(nativeError.expectedErr());
            if (errno == EMSGSIZE) {
                return Counter.DROP_UDP_SEND_TOO_LARGE;
            }
            if (errno == ENOBUFS || errno == EAGAIN) {
                return Counter.DROP_UDP_SEND_NO_BUFFER;
            }
        }
        String message = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
        if (message.contains("message too long")) {
            return Counter.DROP_UDP_SEND_TOO_LARGE;
        }
        if (message.contains("no buffer space") || message.contains("resource temporarily unavailable")) {
            return Counter.DROP_UDP_SEND_NO_BUFFER;
        }
        return Counter.DROP_UDP_SEND_FAILED;
    }

    private final class Outcome implements ChannelFutureListener {
        private final int packets;

        Outcome(int packets) {
            this.packets = packets;
        }

        @Override
        public void operationComplete(ChannelFuture future) {
            if (!future.isSuccess() && !future.isCancelled()) {
                counters.add(reasonOf(future.cause()), packets);
            }
        }
    }
}
