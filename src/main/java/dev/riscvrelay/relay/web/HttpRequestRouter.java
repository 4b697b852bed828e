package dev.riscvrelay.relay.web;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.stream.ChunkedNioFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

/**
 * The front door of an HTTP connection: a WebSocket upgrade goes on to the WebSocket handlers behind it; any other
 * request is answered from {@link WebContent} (GET/HEAD), or with 426 when the listener serves no content.
 * Files are streamed in chunks so a large VM image does not hold the event loop for long.
 */
public final class HttpRequestRouter extends SimpleChannelInboundHandler<FullHttpRequest> {

    private final WebContent content;
    private final Counters counters;

    /** @param content what to serve, or null for a WebSocket-only listener */
    public HttpRequestRouter(WebContent content, Counters counters) {
        super(false);
        this.content = content;
        this.counters = counters;
    }

    /** Whether {@code request} asks to become a WebSocket (the LAN's, or WISP's). */
    public static boolean isWebSocketUpgrade(HttpRequest request) {
        return request.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) throws IOException {
        if (isWebSocketUpgrade(request)) {
            ctx.fireChannelRead(request); // the WebSocket handshake handler takes it (and releases it)
            return;
        }
        try {
            answer(ctx, request);
        } finally {
            request.release();
        }
    }

    private void answer(ChannelHandlerContext ctx, FullHttpRequest request) throws IOException {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (content == null) {
            counters.increment(Counter.HTTP_NOT_FOUND);
            sendText(ctx, HttpResponseStatus.UPGRADE_REQUIRED,
                    "This port carries Ethernet frames over WebSocket: connect with a WebSocket client.\n", keepAlive);
            return;
        }
        boolean head = HttpMethod.HEAD.equals(request.method());
        if (!HttpMethod.GET.equals(request.method()) && !head) {
            counters.increment(Counter.HTTP_NOT_FOUND);
            sendText(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "GET or HEAD only\n", keepAlive);
            return;
        }
        String path;
        try {
            path = new QueryStringDecoder(request.uri()).path();
        } catch (IllegalArgumentException badEscape) { // "%" or "%zz" in the path
            counters.increment(Counter.HTTP_NOT_FOUND);
            sendText(ctx, HttpResponseStatus.BAD_REQUEST, "the path does not decode\n", keepAlive);
            return;
        }
        WebContent.Resource resource = content.lookup(path);
        if (resource == null) {
            counters.increment(Counter.HTTP_NOT_FOUND);
            sendText(ctx, HttpResponseStatus.NOT_FOUND, "not found: " + path + "\n", keepAlive);
            return;
        }
        if (resource.bytes() != null) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(resource.bytes()));
            headers(response, resource.contentType(), resource.bytes().length, keepAlive);
            finish(ctx.writeAndFlush(response), keepAlive);
            return;
        }
        FileChannel file = FileChannel.open(resource.file());
        long length = file.size();
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        headers(response, resource.contentType(), length, keepAlive);
        ctx.write(response);
        if (head) {
            file.close();
            finish(ctx.writeAndFlush(io.netty.handler.codec.http.LastHttpContent.EMPTY_LAST_CONTENT), keepAlive);
        } else {
            // HttpChunkedInput ends with the last-content marker; ChunkedWriteHandler pulls 64 KiB at a time.
            finish(ctx.writeAndFlush(new HttpChunkedInput(new ChunkedNioFile(file, 64 * 1024))), keepAlive);
        }
    }

    private static void headers(HttpResponse response, String contentType, long length, boolean keepAlive) {
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .set(HttpHeaderNames.CONTENT_LENGTH, length)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
        HttpUtil.setKeepAlive(response, keepAlive);
    }

    private static void sendText(ChannelHandlerContext ctx, HttpResponseStatus status, String text, boolean keepAlive) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body));
        headers(response, "text/plain; charset=utf-8", body.length, keepAlive);
        finish(ctx.writeAndFlush(response), keepAlive);
    }

    private static void finish(ChannelFuture written, boolean keepAlive) {
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.fireExceptionCaught(cause);
    }
}
