package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.access.SessionGate;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.Switch;
import dev.riscvrelay.relay.tls.CurrentCertificateKeyManager;
import dev.riscvrelay.relay.tls.RelayCertificate;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ServerConnectionHandler;
import io.netty.handler.codec.quic.EpollQuicUtils;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicChannelOption;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The WebTransport endpoint: one UDP socket speaking QUIC (Netty's native quiche codec) and HTTP/3, whose
 * sessions join a {@link Switch} as ports. Every connection, stream and datagram of the socket runs on one event
 * loop, the same loop the switch must be owned by, so nothing here takes a lock.
 *
 * <p>What browsers need, and what fails silently without it (see notes/webtransport-in-browsers.md): the SETTINGS
 * of {@link WebTransportSettings}, the QUIC datagram transport parameter, and packets large enough for Chromium's
 * 1447-byte datagrams. Packets never exceed what the path carries: DF is set, they start at QUIC's 1200 bytes and
 * grow once quiche's path MTU discovery validated a size, up to what the server's own link carries ({@link PathMtu}).
 */
public final class WebTransportServer implements AutoCloseable {

    /** Chromium 156 refuses datagrams with more than this many payload bytes (after the Quarter Stream ID). */
    public static final int CHROMIUM_MAX_INBOUND_PAYLOAD = 1199;

    /** Datagrams read from the UDP socket per loop turn. */
    private static final int DATAGRAMS_PER_READ = 64;

    private final WebTransportServerConfig config;
    private final Counters counters;
    private final IoEventLoopGroup ownedGroup;
    private final IoEventLoop loop;
    private final Channel socket;
    /** The largest UDP payload this server sends: the link's, probed up to per connection (see {@link PathMtu}). */
    private final int udpPayload;
    private final List<WebTransportConnection> connections = new ArrayList<>();
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile int sessions;
    private volatile int connectionCount;

    /**
     * Binds {@code bindAddress:port} on an event loop of its own; run the switch on {@link #eventLoop()}.
     *
     * @throws PortInUseException when another socket holds the UDP port
     */
    public WebTransportServer(InetAddress bindAddress, int port, RelayCertificate certificate, Switch lan,
            Counters counters, WebTransportServerConfig config) throws PortInUseException {
        this(bindAddress, port, certificate, lan, counters, config, null);
    }

    /**
     * Binds {@code bindAddress:port} on {@code loop} (not owned: closing the server leaves it running), the loop
     * that owns {@code lan}. With {@code loop == null} the server makes and owns one.
     *
     * @throws PortInUseException when another socket holds the UDP port
     */
    public WebTransportServer(InetAddress bindAddress, int port, RelayCertificate certificate, Switch lan,
            Counters counters, WebTransportServerConfig config, IoEventLoop loop) throws PortInUseException {
        this(bindAddress, port, () -> certificate, SessionGate.open(lan), counters, config, loop);
    }

    /**
     * Like {@link #WebTransportServer(InetAddress, int, RelayCertificate, Switch, Counters, WebTransportServerConfig,
     * IoEventLoop)}, with an identity that may change while it runs (every new connection's handshake uses
     * {@code certificates.get()} at that moment; open connections keep theirs) and a gate that picks each session's
     * LAN from its CONNECT's path, or refuses it.
     */
    public WebTransportServer(InetAddress bindAddress, int port, Supplier<RelayCertificate> certificates, SessionGate lan,
            Counters counters, WebTransportServerConfig config, IoEventLoop loop) throws PortInUseException {
        this.config = config;
        this.counters = counters;
        if (loop == null) {
            this.ownedGroup = new MultiThreadIoEventLoopGroup(1,
                    Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
            this.loop = ownedGroup.next();
        } else {
            this.ownedGroup = null;
            this.loop = loop;
        }
        boolean epoll = this.loop.isIoType(EpollIoHandler.class);
        this.udpPayload = PathMtu.serverUdpPayload(bindAddress, config.udpPayloadSize());
        ChannelHandler codec = quicCodec(certificates, lan, epoll);
        UdpSendErrors sendErrors = new UdpSendErrors(counters);
        Bootstrap bootstrap = new Bootstrap()
                .group(this.loop)
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, config.receiveBufferBytes())
                .option(ChannelOption.SO_SNDBUF, config.receiveBufferBytes())
                // Every WebTransport session shares this socket while each WebSocket member has its own: read up to
                // 64 datagrams a loop turn (Netty's default is 16), so a loop busy with TCP members still drains it.
                .option(ChannelOption.RCVBUF_ALLOCATOR,
                        new FixedRecvByteBufAllocator(2048).maxMessagesPerRead(DATAGRAMS_PER_READ))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(sendErrors, codec, UdpErrorSink.INSTANCE);
                    }
                });
        if (epoll) {
            // DF on every packet, never fragmented; quiche's probes, not the kernel's cache, find the path's size.
            bootstrap.option(PathMtu.discoverOption(bindAddress), PathMtu.DISCOVER_PROBE);
            if (bindAddress instanceof java.net.Inet6Address && bindAddress.isAnyLocalAddress()) {
                // Dual stack: IPv4 clients reach '::' as IPv4-mapped peers, whose packets follow the IPv4 option.
                bootstrap.option(PathMtu.discoverOption(java.net.Inet4Address.ofLiteral("0.0.0.0")),
                        PathMtu.DISCOVER_PROBE);
            }
        }
        ChannelFuture bound = bootstrap.bind(new InetSocketAddress(bindAddress, port)).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            shutdownOwnedGroup();
            Throwable cause = bound.cause();
            if (isAddressInUse(cause)) {
                throw new PortInUseException("UDP port " + port + " on " + bindAddress.getHostAddress()
                        + " is already in use", cause);
            }
            throw new IllegalStateException("cannot bind UDP " + bindAddress.getHostAddress() + ":" + port + ": "
                    + cause.getMessage(), cause);
        }
        this.socket = bound.channel();
    }

    private ChannelHandler quicCodec(Supplier<RelayCertificate> certificates, SessionGate lan, boolean epoll) {
        // BoringSSL asks the key manager during each handshake, so a renewed certificate needs no new context.
        QuicSslContext tls = QuicSslContextBuilder
                .forServer(new CurrentCertificateKeyManager(certificates), null)
                .applicationProtocols(Http3.supportedApplicationProtocols())
                .build();
        QuicServerCodecBuilder builder = QuicTransport.configure(Http3.newQuicServerCodecBuilder(),
                        config.idleTimeout(), udpPayload, config.udpPayloadSize(), config.congestionControl(),
                        config.datagramQueueLength())
                .sslContext(tls)
                // Retry before any handshake work: a spoofed source address gets one small packet back, no more.
                .tokenHandler(new AddressValidationTokens(NanoClock.SYSTEM))
                // Sessions plus a few plain requests; quiche grants more as streams finish, so this bounds
                // concurrent streams, not their total.
                .initialMaxStreamsBidirectional(config.maxSessionsPerConnection() + 4L)
                .handler(new ChannelInitializer<QuicChannel>() {
                    @Override
                    protected void initChannel(QuicChannel quic) {
                        WebTransportConnection connection = new WebTransportConnection(
                                WebTransportServer.this, lan, counters);
                        ChannelHandler requestStreams = new ChannelInitializer<QuicStreamChannel>() {
                            @Override
                            protected void initChannel(QuicStreamChannel stream) {
                                stream.pipeline().addLast(new ConnectStreamHandler(connection, counters));
                            }
                        };
                        quic.pipeline().addLast(new Http3ServerConnectionHandler(requestStreams, null, null,
                                WebTransportSettings.serverSettings(config.maxSessionsPerConnection()), true,
                                (id, value) -> true));
                        quic.pipeline().addLast(connection);
                        connections.add(connection);
                        quic.closeFuture().addListener(f -> connections.remove(connection));
                    }
                });
        if (epoll) {
            // GSO: several QUIC packets of one flush leave in one sendmsg.
            builder.option(QuicChannelOption.SEGMENTED_DATAGRAM_PACKET_ALLOCATOR,
                    EpollQuicUtils.newSegmentedAllocator(HttpDatagram.GSO_SEGMENTS));
        }
        return builder.build();
    }

    /** The largest UDP payload this server sends on any path: what its link carries, at most the configured size. */
    public int udpPayload() {
        return udpPayload;
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) socket.localAddress();
    }

    /**
     * The UDP receive buffer the kernel actually granted: Linux caps SO_RCVBUF at net.core.rmem_max, so this may
     * be less than configured, and bursts then overflow it (see netstat -su "receive buffer errors").
     */
    public int effectiveReceiveBufferBytes() {
        return socket.config().getOption(ChannelOption.SO_RCVBUF);
    }

    /** The loop that runs this server's socket; the switch and every port's work belong on it. */
    public IoEventLoop eventLoop() {
        return loop;
    }

    public WebTransportServerConfig config() {
        return config;
    }

    /** Open sessions over all connections (safe to read from any thread). */
    public int sessionCount() {
        return sessions;
    }

    /**
     * Frames waiting in the sessions' outbound queues: {@code [total, deepest single queue]}. On the event loop
     * (the queues belong to it).
     */
    public int[] queuedFrames() {
        int total = 0;
        int deepest = 0;
        for (WebTransportConnection connection : connections) {
            int[] depths = connection.queuedFrames();
            total += depths[0];
            deepest = Math.max(deepest, depths[1]);
        }
        return new int[] {total, deepest};
    }

    /** Whether the UDP socket is open. */
    public boolean isOpen() {
        return socket.isOpen();
    }

    /** Open QUIC connections (safe to read from any thread). */
    public int connectionCount() {
        return connectionCount;
    }

    boolean connectionOpened() {
        if (connectionCount >= config.maxConnections()) {
            return false;
        }
        connectionCount = connectionCount + 1; // single writer: the event loop
        return true;
    }

    void connectionClosed() {
        connectionCount = connectionCount - 1;
    }

    boolean sessionCanOpen() {
        return sessions < config.maxSessions();
    }

    void sessionOpened() {
        sessions = sessions + 1;
    }

    void sessionClosed() {
        sessions = sessions - 1;
    }

    /**
     * Closes every session (CLOSE_WEBTRANSPORT_SESSION capsule and FIN), gives the peers a moment to hear it,
     * then closes the socket; waits until done. The event loop is shut down only if the server made it.
     */
    @Override
    public void close() {
        if (loop.inEventLoop()) {
            throw new IllegalStateException("close() blocks; call it off the event loop");
        }
        if (!closing.compareAndSet(false, true)) {
            socket.closeFuture().awaitUninterruptibly();
            return;
        }
        loop.submit(() -> {
            for (WebTransportConnection connection : new ArrayList<>(connections)) {
                connection.closeSessions(0, "relay shutting down");
            }
        }).awaitUninterruptibly();
        // The capsules and FINs need a moment on the wire before CONNECTION_CLOSE overtakes them.
        loop.schedule(() -> {
            for (WebTransportConnection connection : new ArrayList<>(connections)) {
                connection.closeConnection("relay shutting down");
            }
        }, 50, TimeUnit.MILLISECONDS).awaitUninterruptibly();
        loop.submit(() -> socket.close()).awaitUninterruptibly();
        socket.closeFuture().awaitUninterruptibly();
        shutdownOwnedGroup();
    }

    private void shutdownOwnedGroup() {
        if (ownedGroup != null) {
            ownedGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    private static boolean isAddressInUse(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof BindException) {
                return true;
            }
            if (t instanceof IOException && t.getMessage() != null && t.getMessage().contains("in use")) {
                return true; // the epoll transport reports EADDRINUSE as a plain NativeIoException
            }
        }
        return false;
    }

    /** The UDP port is held by another socket; the message is one line for the operator. */
    public static final class PortInUseException extends Exception {
        public PortInUseException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
