package dev.riscvrelay.relay.transport.webtransport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Sends one arbitrary HTTP/3 request and returns the response status: checks how the server answers non-sessions. */
final class Http3Probe {

    private Http3Probe() {
    }

    static String status(InetSocketAddress server, Consumer<Http3Headers> request) throws Exception {
        return statuses(server, 1, request).getFirst();
    }

    /** Sends {@code count} requests one after another on one QUIC connection; their statuses in order. */
    static java.util.List<String> statuses(InetSocketAddress server, int count, Consumer<Http3Headers> request)
            throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            QuicSslContext tls = QuicSslContextBuilder.forClient()
                    .trustManager(InsecureTrustManagerFactory.INSTANCE) // only the status matters here
                    .applicationProtocols(Http3.supportedApplicationProtocols()).build();
            Channel udp = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                    .handler(Http3.newQuicClientCodecBuilder().sslContext(tls)
                            .maxIdleTimeout(5, TimeUnit.SECONDS).initialMaxData(1 << 20)
                            .initialMaxStreamDataBidirectionalLocal(1 << 16).datagram(16, 16).build())
                    .bind(0).sync().channel();
            QuicChannel quic = QuicChannel.newBootstrap(udp).handler(new Http3ClientConnectionHandler())
                    .remoteAddress(server).connect().get(5, TimeUnit.SECONDS);
            java.util.List<String> results = new java.util.ArrayList<>();
            for (int n = 0; n < count; n++) {
                CompletableFuture<String> status = new CompletableFuture<>();
                QuicStreamChannel stream = Http3.newRequestStream(quic, new Http3RequestStreamInboundHandler() {
                    @Override
                    protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
                        status.complete(String.valueOf(frame.headers().status()));
                    }

                    @Override
                    protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
                        frame.release();
                    }

                    @Override
                    protected void channelInputClosed(ChannelHandlerContext ctx) {
                        status.complete("stream ended without a response");
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        status.complete("stream failed: " + cause);
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        status.complete("stream closed without a response");
                    }
                }).get(5, TimeUnit.SECONDS);
                Http3HeadersFrame frame = new DefaultHttp3HeadersFrame();
                frame.headers().authority("127.0.0.1:" + server.getPort());
                request.accept(frame.headers());
                stream.writeAndFlush(frame).sync();
                results.add(status.get(5, TimeUnit.SECONDS));
            }
            quic.close().sync();
            udp.close().sync();
            return results;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
