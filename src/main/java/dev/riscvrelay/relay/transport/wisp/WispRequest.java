package dev.riscvrelay.relay.transport.wisp;

import dev.riscvrelay.relay.access.AccessTokens;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.web.HttpRequestRouter;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One web connection's WISP upgrade, if it is one: a WebSocket upgrade to {@link WispPath}. The network's gate
 * decides first (401 no token, 403 wrong token, 404 no such network, 429/503 limits), as for LAN sessions; a v2
 * client (one that names a subprotocol) without a token may still upgrade when the network needs one, and then
 * authenticates with the token as its password. An admitted upgrade replaces the LAN's WebSocket handlers behind
 * this one with the WISP ones. Anything else passes on untouched.
 */
final class WispRequest extends ChannelInboundHandlerAdapter {

    private final WispService service;

    WispRequest(WispService service) {
        this.service = service;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        WispPath path = msg instanceof FullHttpRequest request && HttpRequestRouter.isWebSocketUpgrade(request)
                ? WispPath.parse(request.uri()) : null;
        if (path == null) {
            ctx.fireChannelRead(msg);
            return;
        }
        FullHttpRequest request = (FullHttpRequest) msg;
        InetAddress peer = ctx.channel().remoteAddress() instanceof InetSocketAddress inet
                ? inet.getAddress() : InetAddress.getLoopbackAddress();
        boolean v2 = request.headers().contains(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        WispGate.Admitted admitted = null;
        if (path.network() == null) {
            refuse(ctx, request, 404, Counter.SESSIONS_REFUSED_NO_NETWORK);
            return;
        }
        boolean passwordLater = v2 && service.tokens.check(path.network(), path.token()) == AccessTokens.MISSING;
        if (!passwordLater) {
            WispGate.Decision decision = service.gate.admitWisp(path.network(), path.token(), peer);
            if (decision instanceof WispGate.Refused refused) {
                refuse(ctx, request, refused.status(), refused.reason());
                return;
            }
            admitted = (WispGate.Admitted) decision;
        }
        becomeWisp(ctx, new WispConnection(service, path.network(), peer, v2, admitted));
        ctx.fireChannelRead(request); // the handshake, by the protocol handler just added
        ctx.pipeline().remove(this);
    }

    /** The LAN's handlers behind this one leave; WISP's WebSocket protocol handler and connection take their place. */
    private void becomeWisp(ChannelHandlerContext ctx, WispConnection connection) {
        ChannelPipeline pipeline = ctx.pipeline();
        List<String> names = pipeline.names();
        for (String name : names.subList(names.indexOf(ctx.name()) + 1, names.size())) {
            if (pipeline.context(name) != null) {
                pipeline.remove(name);
            }
        }
        WispConfig config = service.config;
        pipeline.addLast(new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                .websocketPath("/")
                .checkStartsWith(true)
                .subprotocols("*") // v2 clients name one; any is echoed, as the specification leaves it open
                .handshakeTimeoutMillis(10_000)
                .handleCloseFrames(true)
                .dropPongFrames(true)
                .decoderConfig(WebSocketDecoderConfig.newBuilder()
                        .maxFramePayloadLength(config.maxMessageBytes())
                        .allowExtensions(false)
                        .closeOnProtocolViolation(true)
                        .build())
                .build()));
        pipeline.addLast(new WebSocketFrameAggregator(config.maxMessageBytes()));
        pipeline.addLast(connection);
    }

    private void refuse(ChannelHandlerContext ctx, FullHttpRequest request, int status, Counter reason) {
        request.release();
        service.counters.increment(Counter.WISP_CONNECTIONS_REFUSED);
        service.counters.increment(reason);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(status), Unpooled.copiedBuffer(status + "\n", StandardCharsets.US_ASCII));
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
