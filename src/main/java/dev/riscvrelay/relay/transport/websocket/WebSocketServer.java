package dev.riscvrelay.relay.transport.websocket;

import dev.riscvrelay.relay.access.SessionGate;
import dev.riscvrelay.relay.forward.WebPreviews;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.Switch;
import dev.riscvrelay.relay.tls.RelayCertificate;
import dev.riscvrelay.relay.web.HttpRequestRouter;
import dev.riscvrelay.relay.web.WebContent;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.IoEventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.stream.ChunkedWriteHandler;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * The WebSocket endpoint: a TCP listener (HTTP/1.1, TLS with the relay's certificate or plain) whose WebSocket
 * connections join, as ports, the LAN the {@link SessionGate} picks from the upgrade's path (any path: the default
 * one); one binary message is one Ethernet frame. Connections are accepted, TLS-handshaken and parsed on a web loop;
 * at the first request that needs a LAN (a WebSocket upgrade, WISP, a web preview) a connection moves to the loop
 * that owns the switch ({@link LanLoopHandOver}), so its frames go from socket to switch without a hand-over or a
 * lock, and the switch's loop never spends a turn on a handshake or a file of the page.
 *
 * <p>With {@link WebContent} the same listener also answers plain GET requests (the demo page and the VM files);
 * without it, they get 426 Upgrade Required. Web previews ({@link #usePreviews}) and WISP ({@link #useWisp}: upgrades
 * to {@code /wisp/} and {@code /net/NAME/wisp/}) claim their requests before the LAN's handlers see them.
 */
public final class WebSocketServer implements AutoCloseable {

    private final Channel listener;
    private final WebSocketServerConfig config;
    private final Counters counters;
    private final ChannelGroup open;
    /** Open connections: counted up on the web loop, down on whichever loop the connection ended on. */
    private final AtomicInteger connections = new AtomicInteger();
    /** Connections past the handshake, on the LAN: written by the loop only, read by exporters. */
    /** Members over every LAN loop. */
    private final AtomicInteger members = new AtomicInteger();
    /** What claims web preview requests before the page and the upgrade see them, or null. */
    private volatile Supplier<ChannelHandler> previews;
    /** What claims WISP upgrades ({@code /wisp/}) before the LAN's WebSocket handlers see them, or null. */
    private volatile Supplier<ChannelHandler> wisp;

    /**
     * Listens on {@code bind:port} over TCP on {@code loop}, which must own {@code lan}. Closing the server leaves
     * the loop running.
     *
     * @param certificate used when {@code config.tls()}
     * @param content what plain requests get, or null
     * @throws PortInUseException when the TCP port is taken
     */
    public WebSocketServer(InetAddress bind, int port, RelayCertificate certificate, Switch lan, Counters counters,
            WebSocketServerConfig config, WebContent content, IoEventLoop loop) throws PortInUseException {
        this(bind, port, certificate, SessionGate.open(lan), counters, config, content, loop);
    }

    /**
     * Listens on {@code bind:port} over TCP on {@code loop}, which must own every LAN {@code gate} admits to.
     *
     * @throws PortInUseException when the TCP port is taken
     */
    public WebSocketServer(InetAddress bind, int port, RelayCertificate certificate, SessionGate gate,
            Counters counters, WebSocketServerConfig config, WebContent content, IoEventLoop loop)
            throws PortInUseException {
        this(bind, port, certificate, gate, counters, config, content, loop, loop);
    }

    /**
     * Listens on {@code bind:port} over TCP on {@code webLoop}; a connection whose request needs a LAN moves to the
     * loop that owns the LAN its request names ({@link SessionGate#loopFor}; {@code lanLoop} when the gate does not
     * say), where the WISP and preview services run too. Web and LAN loops may be the same loop.
     *
     * @throws PortInUseException when the TCP port is taken
     */
    public WebSocketServer(InetAddress bind, int port, RelayCertificate certificate, SessionGate gate,
            Counters counters, WebSocketServerConfig config, WebContent content, IoEventLoop webLoop,
            IoEventLoop lanLoop) throws PortInUseException {
        if (webLoop.isIoType(EpollIoHandler.class) != lanLoop.isIoType(EpollIoHandler.class)) {
            throw new IllegalArgumentException("the web and LAN loops must have the same kind of I/O");
        }
        this.config = config;
        this.counters = counters;
        this.open = new DefaultChannelGroup("websocket", webLoop);
        SslContext tls = config.tls() ? serverTls(certificate) : null;
        WebSocketServerProtocolConfig protocol = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath("/")
                .checkStartsWith(true) // every path is the LAN, as with WebTransport
                .handshakeTimeoutMillis(config.handshakeTimeout().toMillis())
                .handleCloseFrames(true)
                .dropPongFrames(true)
                .decoderConfig(WebSocketDecoderConfig.newBuilder()
                        .maxFramePayloadLength(config.maxFrameSize())
                        .allowExtensions(false) // no permessage-deflate: frames are small and mostly compressed
                        .closeOnProtocolViolation(true)
                        .build())
                .build();
        boolean epoll = webLoop.isIoType(EpollIoHandler.class);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(webLoop, webLoop)
                .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 128)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // Backpressure: past 256 KiB unsent the channel turns unwritable and frames wait in the port queue.
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                // Fairness on the shared loop: one read of at most 16 KiB (a dozen full frames) per connection and
                // loop turn, so a flooding connection cannot make the loop spend a turn on it alone; what it sends
                // beyond that waits in TCP, which slows the sender down.
                .childOption(ChannelOption.RCVBUF_ALLOCATOR,
                        new AdaptiveRecvByteBufAllocator(512, 4096, 16 * 1024).maxMessagesPerRead(1))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        if (connections.get() >= config.maxConnections()) {
                            counters.increment(Counter.WEBSOCKET_REFUSED);
                            channel.close();
                            return;
                        }
                        connections.incrementAndGet();
                        open.add(channel);
                        channel.closeFuture().addListener(f -> connections.decrementAndGet());
                        ChannelPipeline pipeline = channel.pipeline();
                        if (tls != null) {
                            pipeline.addLast(tls.newHandler(channel.alloc()));
                        }
                        pipeline.addLast(new HttpServerCodec(4096, 8192, 8192));
                        pipeline.addLast(new HttpObjectAggregator(8192));
                        pipeline.addLast(new FirstRequestDeadline(FirstRequestDeadline.DEFAULT, counters));
                        pipeline.addLast(new ChunkedWriteHandler());
                        if (lanLoop != webLoop) {
                            pipeline.addLast(new LanLoopHandOver(request -> {
                                IoEventLoop owner = gate.loopFor(request.uri());
                                return owner == null ? lanLoop : owner;
                            }, WebSocketServer::needsLan, counters));
                        }
                        Supplier<ChannelHandler> previewHandler = previews;
                        if (previewHandler != null) {
                            pipeline.addLast(previewHandler.get());
                        }
                        Supplier<ChannelHandler> wispHandler = wisp;
                        if (wispHandler != null) {
                            pipeline.addLast(wispHandler.get());
                        }
                        pipeline.addLast(new HttpRequestRouter(content, counters));
                        WebSocketPort member = new WebSocketPort(WebSocketServer.this, counters, config.sendQueueFrames(),
                                config.maxFrameSize());
                        pipeline.addLast(new WebSocketAdmission(gate, member, counters));
                        pipeline.addLast(new WebSocketServerProtocolHandler(protocol));
                        pipeline.addLast(member);
                    }
                });
        ChannelFuture bound = bootstrap.bind(new InetSocketAddress(bind, port)).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            Throwable cause = bound.cause();
            for (Throwable t = cause; t != null; t = t.getCause()) {
                if (t instanceof BindException
                        || (t instanceof IOException && t.getMessage() != null && t.getMessage().contains("in use"))) {
                    throw new PortInUseException("TCP port " + port + " on " + bind.getHostAddress()
                            + " is already in use", cause);
                }
            }
            throw new IllegalStateException("cannot listen on tcp " + bind.getHostAddress() + ":" + port + ": "
                    + cause.getMessage(), cause);
        }
        this.listener = bound.channel();
    }

    /** Whether {@code request} is served on the LAN loop: a WebSocket upgrade (a member or WISP) or a preview. */
    static boolean needsLan(FullHttpRequest request) {
        return HttpRequestRouter.isWebSocketUpgrade(request) || WebPreviews.isPreview(request.uri());
    }

    /** Web previews ({@code /net/NAME/vm/...}) on this listener: one handler per connection from {@code handlers}. */
    public void usePreviews(Supplier<ChannelHandler> handlers) {
        this.previews = handlers;
    }

    /** WISP ({@code /wisp/}, {@code /net/NAME/wisp/}) on this listener: one handler per connection from {@code handlers}. */
    public void useWisp(Supplier<ChannelHandler> handlers) {
        this.wisp = handlers;
    }

    private static SslContext serverTls(RelayCertificate certificate) {
        try {
            return SslContextBuilder
                    .forServer(certificate.privateKey(), certificate.chain().toArray(X509Certificate[]::new))
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_1_1))
                    .build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot set up TLS with the relay's certificate: " + e.getMessage(), e);
        }
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) listener.localAddress();
    }

    public WebSocketServerConfig config() {
        return config;
    }

    /** WebSocket members on the LAN now, i.e. sessions past their handshake (safe to read from any thread). */
    public int memberCount() {
        return members.get();
    }

    /** On the loop of its LAN: a member joined it. */
    void memberJoined() {
        members.incrementAndGet();
    }

    /** On the loop of its LAN: a member that had joined left it. */
    void memberLeft() {
        members.decrementAndGet();
    }

    /** Stops listening and closes every connection; waits until done. Call off the loop. */
    @Override
    public void close() {
        listener.close().awaitUninterruptibly();
        open.close().awaitUninterruptibly();
    }

    /** The TCP port is held by another socket; the message is one line for the operator. */
    public static final class PortInUseException extends Exception {
        public PortInUseException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
