package dev.riscvrelay.relay.forward;

import dev.riscvrelay.relay.access.AccessTokens;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.Ipv4Address;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.QueryStringEncoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One web connection's preview request, if it is one: {@code /net/NAME/vm/VMADDR:PORT/REST?QUERY} with the network's
 * token (the {@code token} parameter, as for sessions). Anything else passes on to the next handler. A preview turns
 * the connection into a byte tunnel to the VM: the request is re-written for the VM ({@code /REST?QUERY} without
 * the token, {@code Host: VMADDR:PORT}, {@code Connection: close} unless it is an upgrade), the HTTP handlers leave
 * the pipeline (TLS stays), and the network's TCP NAT dials the VM with the connection as its host socket. The VM's
 * answer, a WebSocket upgrade's frames included, flows back unchanged; one request per connection, so every request
 * of a page is re-written. Refusals are HTTP answers: 401/403 (token), 404 (network), 400 (address), 503 (too many
 * previews), 502 (no VM answers ARP or a limit refused), each counted.
 */
final class PreviewRequest extends ChannelInboundHandlerAdapter {

    private static final Pattern PATH = Pattern.compile(
            "/net/([a-z0-9-]{1,32})/vm/([0-9.]{7,15}):([0-9]{1,5})(/.*)?");

    private final WebPreviews previews;

    static boolean isPreviewPath(String rawPath) {
        return PATH.matcher(rawPath).matches();
    }

    PreviewRequest(WebPreviews previews) {
        this.previews = previews;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        QueryStringDecoder uri = new QueryStringDecoder(request.uri(), StandardCharsets.UTF_8, true, 64);
        Matcher m = PATH.matcher(uri.rawPath());
        if (!m.matches()) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            preview(ctx, request, uri, m);
        } finally {
            request.release();
        }
    }

    private void preview(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri, Matcher m) {
        previews.counters.increment(Counter.PREVIEW_REQUESTS);
        String network = m.group(1);
        List<String> tokens;
        try {
            tokens = uri.parameters().get("token");
        } catch (IllegalArgumentException badEscape) { // "?token=%"
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "the query does not decode");
            return;
        }
        int check = previews.tokens.check(network, tokens == null || tokens.isEmpty() ? null : tokens.getFirst());
        if (check != AccessTokens.ADMITTED) {
            previews.counters.increment(Counter.PREVIEW_REFUSED_TOKEN);
            refuse(ctx, check == AccessTokens.MISSING ? HttpResponseStatus.UNAUTHORIZED : HttpResponseStatus.FORBIDDEN,
                    "this network needs its token: add ?token=...");
            return;
        }
        ForwardTarget target = previews.networks.network(network);
        if (target == null) {
            previews.counters.increment(Counter.FORWARD_NO_NETWORK);
            refuse(ctx, HttpResponseStatus.NOT_FOUND, "no network " + network);
            return;
        }
        int vm;
        int port = Integer.parseInt(m.group(3));
        try {
            vm = Ipv4Address.parse(m.group(2));
        } catch (IllegalArgumentException e) {
            vm = 0;
        }
        if (!target.config().inNetwork(vm) || target.config().isGatewayAddress(vm) || port < 1 || port > 65535) {
            previews.counters.increment(Counter.PREVIEW_REFUSED_ADDRESS);
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "not a VM address and port of " + network);
            return;
        }
        if (previews.active.incrementAndGet() > WebPreviews.MAX_ACTIVE) {
            previews.active.decrementAndGet();
            previews.counters.increment(Counter.PREVIEW_REFUSED_BUSY);
            refuse(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "too many previews open");
            return;
        }
        ByteBuf forVm = rewrite(request, uri, m.group(4), m.group(2) + ":" + port);
        SocketChannel channel = (SocketChannel) ctx.channel();
        channel.closeFuture().addListener(f -> previews.active.decrementAndGet());
        target.tcp().configureHostSocket(channel.config()); // not read until the VM accepted
        becomeTunnel(ctx.pipeline(), forVm);
        int vmAddress = vm;
        new GuestLookup(vm, channel.eventLoop(), previews.counters, 1).find(target, new GuestLookup.Waiter() {
            @Override
            public void found(ForwardTarget at, long mac) {
                if (channel.isActive() && !at.tcp().connectToVm(mac, vmAddress, port, channel)) {
                    badGateway(channel, "the VM's connection limit is reached");
                }
            }

            @Override
            public void notFound() {
                badGateway(channel, "no VM answers at " + Ipv4Address.format(vmAddress));
            }
        });
    }

    /** Everything but TLS leaves the pipeline; what remains is the idle bound and the request to replay. */
    private void becomeTunnel(ChannelPipeline pipeline, ByteBuf forVm) {
        List<ChannelHandler> http = new ArrayList<>();
        for (Map.Entry<String, ChannelHandler> entry : pipeline) {
            if (!(entry.getValue() instanceof SslHandler)) {
                http.add(entry.getValue());
            }
        }
        pipeline.addLast(new IdleStateHandler(0, 0, WebPreviews.IDLE_TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        pipeline.addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                if (event instanceof IdleStateEvent) {
                    previews.counters.increment(Counter.PREVIEW_IDLE_CLOSED);
                    ctx.close();
                } else {
                    ctx.fireUserEventTriggered(event);
                }
            }
        });
        pipeline.addLast(new ReplayOnFirstRead(forVm));
        http.forEach(pipeline::remove);
    }

    /** The request as the VM gets it: its own path, no token, its own Host, one request per connection. */
    private static ByteBuf rewrite(FullHttpRequest request, QueryStringDecoder uri, String rest, String host) {
        QueryStringEncoder target = new QueryStringEncoder(rest == null ? "/" : rest);
        uri.parameters().forEach((name, values) -> {
            if (!name.equals("token")) {
                values.forEach(value -> target.addParam(name, value));
            }
        });
        boolean upgrade = request.headers().contains(HttpHeaderNames.UPGRADE)
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
        StringBuilder head = new StringBuilder(512);
        head.append(request.method().name()).append(' ').append(target).append(" HTTP/1.1\r\n");
        request.headers().forEach(header -> {
            String name = header.getKey();
            if (!name.equalsIgnoreCase("host") && !name.equalsIgnoreCase("connection")
                    && !name.equalsIgnoreCase("keep-alive") && !name.equalsIgnoreCase("proxy-connection")) {
                head.append(name).append(": ").append(header.getValue()).append("\r\n");
            }
        });
        head.append("Host: ").append(host).append("\r\n");
        head.append("Connection: ").append(upgrade ? "Upgrade" : "close").append("\r\n\r\n");
        ByteBuf bytes = Unpooled.buffer(head.length() + request.content().readableBytes());
        bytes.writeCharSequence(head, StandardCharsets.ISO_8859_1);
        bytes.writeBytes(request.content(), request.content().readerIndex(), request.content().readableBytes());
        return bytes;
    }

    private static void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String text) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(text + "\n", StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    /** A 502 written raw (the HTTP encoder has left the pipeline), then the connection closes. */
    private static void badGateway(SocketChannel channel, String text) {
        byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
                + body.length + "\r\nConnection: close\r\n\r\n";
        ByteBuf bytes = Unpooled.buffer(head.length() + body.length);
        bytes.writeCharSequence(head, StandardCharsets.ISO_8859_1);
        bytes.writeBytes(body);
        channel.writeAndFlush(bytes).addListener(ChannelFutureListener.CLOSE);
    }
}
