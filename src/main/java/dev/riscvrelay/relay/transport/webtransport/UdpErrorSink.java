package dev.riscvrelay.relay.transport.webtransport;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The last handler of a UDP socket's pipeline: socket errors the QUIC codec passes on (a recvmsg racing the
 * socket's close, ICMP errors such as ECONNREFUSED while a relay restarts) end here at debug level instead of as
 * "reached the tail" warnings; QUIC's own timers decide whether the connection survives.
 */
@ChannelHandler.Sharable
final class UdpErrorSink extends ChannelInboundHandlerAdapter {

    static final UdpErrorSink INSTANCE = new UdpErrorSink();

    private static final Logger LOG = Logger.getLogger(UdpErrorSink.class.getName());

    private UdpErrorSink() {
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.FINE, "UDP socket " + ctx.channel().localAddress() + ": " + cause, cause);
    }
}
