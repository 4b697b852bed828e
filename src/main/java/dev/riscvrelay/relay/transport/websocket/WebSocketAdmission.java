package dev.riscvrelay.relay.transport.websocket;

import dev.riscvrelay.relay.access.Admission;
import dev.riscvrelay.relay.access.SessionGate;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Asks the {@link SessionGate} about a WebSocket upgrade before the handshake: a refused one gets its HTTP status
 * (401 no token, 403 wrong token, 404 no such network, 429 too many sessions from the address) and the connection
 * closes; an admitted one goes on to the handshake, its admission handed to the {@link WebSocketPort}.
 */
final class WebSocketAdmission extends ChannelInboundHandlerAdapter {

    private final SessionGate gate;
    private final WebSocketPort port;
    private final Counters counters;

    WebSocketAdmission(SessionGate gate, WebSocketPort port, Counters counters) {
        this.gate = gate;
        this.port = port;
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request) || port.admitted()) {
            ctx.fireChannelRead(msg);
            return;
        }
        InetAddress peer = ctx.channel().remoteAddress() instanceof InetSocketAddress inet
                ? inet.getAddress() : InetAddress.getLoopbackAddress();
        switch (gate.admit(request.uri(), peer)) {
            case Admission.Admitted admitted -> {
                port.admit(admitted);
                ctx.fireChannelRead(msg);
            }
            case Admission.Refused refused -> {
                request.release();
                counters.increment(Counter.WEBSOCKET_REFUSED);
                counters.increment(refused.reason());
                FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.valueOf(refused.status()),
                        Unpooled.copiedBuffer(refused.status() + "\n", StandardCharsets.US_ASCII));
                response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
                response.headers().set(HttpHeaderNames.CONNECTION, "close");
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
