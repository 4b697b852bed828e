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
import io.netty.channel.epoll.EpollChannelOption;
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
 * The WebTransport endpoint: a UDP socket per worker speaking QUIC (Netty's native quiche codec) and HTTP/3, whose
 * sessions join a {@link Switch} as ports. Every connection, stream and datagram runs on its worker's event loop;
 * each switch belongs to one of the loops (the gate says which, {@link SessionGate#loopFor}), and a session on
 * another worker exchanges its frames with that loop through {@link ServerWorker hand-off queues}, so nothing here
 * takes a lock per frame.
 *
 * <p>What browsers need, and what fails silently without it (see notes/webtransport-in-browsers.md): the SETTINGS
 * of {@link WebTransportSettings}, the QUIC datagram transport parameter, and packets large enough for Chromium's
 * 1447-byte datagrams. Packets never exceed what the path carries: DF is set, they start at QUIC's 1200 bytes and
 * grow once quiche's path MTU discovery validated a size, up to what the server's own link carries ({@link PathMtu}).
 */
public final class WebTransportServer implements AutoCloseable {

    /** Chromium 156 refuses datagrams with more than this many payload bytes (after the Quarter Stream ID). */
    public static final int CHROMIUM_MAX_INBOUND_PAYLOAD = 1199;

    /** Connection IDs a client may give us (RFC 9000 §18.2), and so the addresses a connection may move to. */
    static final long ACTIVE_CONNECTION_ID_LIMIT = 16;

    /**
     * Datagrams read from the UDP socket per loop turn. Every WebTransport session shares this socket while each
     * WebSocket member has its own: 64 (Netty's default is 16), so a loop busy with TCP members still drains it.
     */
    private static final int DATAGRAMS_PER_READ = 64;

    private final WebTransportServerConfig config;
    private final Counters counters;
    private final IoEventLoopGroup ownedGroup;
    /** The first worker's loop: its gauges, and the LANs of a gate that does not place them. */
    private final IoEventLoop loop;
    private final List<ServerWorker> workers = new ArrayList<>();
    /** With several workers, each one's hand-over of packets for other workers' connections; by worker index. */
    private final QuicPacketHandOver[] handOvers;
    /** One socket per worker, all on the same port (SO_REUSEPORT when there are several). */
    private final List<Channel> sockets = new ArrayList<>();
    private final Channel socket;
    private final List<io.netty.util.concurrent.ScheduledFuture<?>> queuedFramesTask = new ArrayList<>();
    /** The largest UDP payload this server sends: the link's, probed up to per connection (see {@link PathMtu}). */
    private final int udpPayload;
    /** Every worker's connections: added and removed on their workers, read by the first loop's gauges. */
    private final java.util.Set<WebTransportConnection> connections = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicInteger sessions = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger connectionCount =
            new java.util.concurrent.atomic.AtomicInteger();
    /**
     * Sessions with link recovery at once: each keeps {@link LinkRecovery#SLOTS} datagrams to send again (about
     * 1.5 MB), so a relay holds at most this many; more sessions run without it.
     */
    static final int MAX_RECOVERY_SESSIONS = 64;
    /** How long the close capsules have on the wire, retransmissions included, before the connections close. */
    static final long CLOSE_GRACE_MILLIS = 300;
    private final java.util.concurrent.atomic.AtomicInteger recoverySessions =
            new java.util.concurrent.atomic.AtomicInteger();

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
        this(bindAddress, port, certificates, lan, counters, config, loop == null ? List.of() : List.of(loop));
    }

    /**
     * Like {@link #WebTransportServer(InetAddress, int, Supplier, SessionGate, Counters, WebTransportServerConfig,
     * IoEventLoop)} on several loops (not owned), a worker each: every loop reads its own UDP socket on the same port
     * (SO_REUSEPORT, epoll only), and each QUIC connection lives on the worker whose socket took its first packet.
     * Its connection IDs name that worker, so a packet that arrives on another worker's socket (the client's
     * address changed) is handed to it. The gate is asked on the loop that owns the LAN a request names
     * ({@link SessionGate#loopFor}, the first loop when it does not say), and sessions on other workers exchange
     * their frames with that loop through hand-off queues. No loops: the server makes one.
     */
    public WebTransportServer(InetAddress bindAddress, int port, Supplier<RelayCertificate> certificates, SessionGate lan,
            Counters counters, WebTransportServerConfig config, List<IoEventLoop> loops) throws PortInUseException {
        this.config = config;
        this.counters = counters;
        if (loops.isEmpty()) {
            this.ownedGroup = new MultiThreadIoEventLoopGroup(1,
                    Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
            this.loop = ownedGroup.next();
            loops = List.of(this.loop);
        } else {
            this.ownedGroup = null;
            this.loop = loops.getFirst();
        }
        boolean epoll = this.loop.isIoType(EpollIoHandler.class);
        if (!epoll) {
            loops = List.of(this.loop); // several sockets on one port need SO_REUSEPORT: epoll only
        }
        for (IoEventLoop workerLoop : loops) {
            workers.add(new ServerWorker(workers.size(), workerLoop, loops, counters));
        }
        this.udpPayload = PathMtu.serverUdpPayload(bindAddress, config.udpPayloadSize());
        UdpSendErrors sendErrors = new UdpSendErrors(counters);
        QuicCodecs codecs = new QuicCodecs(certificates, lan, epoll);
        // One worker: one codec, IDs as quiche makes them. Several: each socket's packets of another worker's
        // connections go to that worker before its codec sees them.
        ChannelHandler single = workers.size() == 1 ? codecs.codec(workers.getFirst(), 0, null) : null;
        this.handOvers = workers.size() == 1 ? new QuicPacketHandOver[0]
                : QuicPacketHandOver.forWorkers(loops, counters);
        Bootstrap bootstrap = new Bootstrap()
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, config.receiveBufferBytes())
                .option(ChannelOption.SO_SNDBUF, config.receiveBufferBytes())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (single != null) {
                            ch.pipeline().addLast(sendErrors, single, UdpErrorSink.INSTANCE);
                        } else {
                            ServerWorker worker = workerOn(ch);
                            ch.pipeline().addLast(sendErrors, handOvers[worker.index],
                                    codecs.codec(worker, WorkerConnectionIds.LENGTH,
                                            new WorkerConnectionIds(worker.index)),
                                    UdpErrorSink.INSTANCE);
                        }
                    }
                });
        if (epoll) {
            // DF on every packet, never fragmented; quiche's probes, not the kernel's cache, find the path's size.
            bootstrap.option(PathMtu.discoverOption(bindAddress), PathMtu.DISCOVER_PROBE);
            // relay connect sends each flush as one GSO burst. Alternating runs through it across a 1500-MTU veth,
            // without and with GRO here: curl uploads of 100 MB 818 -> 883 Mbit/s and downloads of 200 MB
            // 1,829 -> 2,038 Mbit/s (medians of 12 and 8), the same CPU per upload.
            QuicTransport.readBursts(bootstrap, DATAGRAMS_PER_READ);
            if (bindAddress instanceof java.net.Inet6Address && bindAddress.isAnyLocalAddress()) {
                // Dual stack: IPv4 clients reach '::' as IPv4-mapped peers, whose packets follow the IPv4 option.
                bootstrap.option(PathMtu.discoverOption(java.net.Inet4Address.ofLiteral("0.0.0.0")),
                        PathMtu.DISCOVER_PROBE);
            }
        } else {
            bootstrap.option(ChannelOption.RCVBUF_ALLOCATOR,
                    new FixedRecvByteBufAllocator(2048).maxMessagesPerRead(DATAGRAMS_PER_READ));
        }
        int boundPort = port;
        if (workers.size() > 1) {
            // SO_REUSEPORT would let this relay share the port with another process of the same user, silently:
            // an ordinary bind first says whether anyone holds it (and picks the port when 0 was asked).
            boundPort = probePort(bindAddress, port);
            bootstrap.option(EpollChannelOption.SO_REUSEPORT, true);
        }
        for (ServerWorker worker : workers) {
            ChannelFuture bound = bootstrap.clone().group(worker.loop)
                    .bind(new InetSocketAddress(bindAddress, boundPort)).awaitUninterruptibly();
            if (!bound.isSuccess()) {
                for (Channel open : sockets) {
                    open.close().awaitUninterruptibly();
                }
                shutdownOwnedGroup();
                Throwable cause = bound.cause();
                if (isAddressInUse(cause)) {
                    throw new PortInUseException("UDP port " + port + " on " + bindAddress.getHostAddress()
                            + " is already in use", cause);
                }
                throw new IllegalStateException("cannot bind UDP " + bindAddress.getHostAddress() + ":" + port + ": "
                        + cause.getMessage(), cause);
            }
            sockets.add(bound.channel());
            boundPort = ((InetSocketAddress) bound.channel().localAddress()).getPort();
        }
        this.socket = sockets.getFirst();
        for (ServerWorker worker : workers) {
            if (worker.index != 0) {
                // The first loop's gauges read what this worker's sessions queue as the worker last saw it.
                queuedFramesTask.add(worker.loop.scheduleAtFixedRate(
                        () -> worker.queuedFrames = queuedFrames(worker), 0, 1, TimeUnit.SECONDS));
            }
        }
    }

    /**
     * The index of the worker whose loop owns the LAN a request to {@code pathAndQuery} joins, as {@code gate}
     * places it: the first when the gate does not say or names a loop that is no worker's.
     */
    int lanOwner(SessionGate gate, String pathAndQuery) {
        IoEventLoop owner = gate.loopFor(pathAndQuery);
        for (ServerWorker worker : workers) {
            if (worker.loop == owner) {
                return worker.index;
            }
        }
        return 0;
    }

    /** The worker whose loop runs {@code channel}. */
    private ServerWorker workerOn(Channel channel) {
        for (ServerWorker worker : workers) {
            if (worker.loop == channel.eventLoop()) {
                return worker;
            }
        }
        throw new IllegalStateException("no worker runs " + channel);
    }

    /** Binds and closes an ordinary UDP socket: the port it got, or PortInUseException when someone holds it. */
    private static int probePort(InetAddress bindAddress, int port) throws PortInUseException {
        try (java.net.DatagramSocket probe = new java.net.DatagramSocket(null)) {
            probe.setReuseAddress(false);
            probe.bind(new InetSocketAddress(bindAddress, port));
            return probe.getLocalPort();
        } catch (java.net.SocketException e) {
            if (isAddressInUse(e)) {
                throw new PortInUseException("UDP port " + port + " on " + bindAddress.getHostAddress()
                        + " is already in use", e);
            }
            throw new IllegalStateException("cannot bind UDP " + bindAddress.getHostAddress() + ":" + port + ": "
                    + e.getMessage(), e);
        }
    }

    /** The number of workers (event loops with a socket each). */
    public int workerCount() {
        return workers.size();
    }

    /** The loop of worker {@code index}. */
    public IoEventLoop workerLoop(int index) {
        return workers.get(index).loop;
    }

    /** QUIC connections worker {@code index} owns now (from any thread; counts the shared set). */
    public int connectionCount(int index) {
        ServerWorker worker = workers.get(index);
        int count = 0;
        for (WebTransportConnection connection : connections) {
            if (connection.worker() == worker) {
                count++;
            }
        }
        return count;
    }

    /** QUIC packets worker {@code index}'s socket handed to the workers that own their connections (any thread). */
    public long packetsHandedOver(int index) {
        return handOvers.length == 0 ? 0 : handOvers[index].handedOver();
    }

    /** Frames worker {@code index}'s sessions handed to the loops of their LANs so far (from any thread). */
    public long framesToLan(int index) {
        return workers.get(index).framesToLan();
    }

    /** Frames the loops of other LANs handed to worker {@code index}'s sessions so far (from any thread). */
    public long framesFromLan(int index) {
        return workers.get(index).framesFromLan();
    }

    /** What every worker's QUIC codec shares: the TLS context, the Retry token key, the gate. */
    private final class QuicCodecs {
        private final QuicSslContext tls;
        private final AddressValidationTokens tokens = new AddressValidationTokens(NanoClock.SYSTEM);
        private final SessionGate lan;
        private final boolean epoll;

        QuicCodecs(Supplier<RelayCertificate> certificates, SessionGate lan, boolean epoll) {
            // BoringSSL asks the key manager during each handshake, so a renewed certificate needs no new context.
            this.tls = QuicSslContextBuilder
                    .forServer(new CurrentCertificateKeyManager(certificates), null)
                    .applicationProtocols(Http3.supportedApplicationProtocols())
                    .build();
            this.lan = lan;
            this.epoll = epoll;
        }

        /**
         * The codec of {@code worker}'s socket; with several workers, {@code idGenerator} makes connection IDs of
         * {@code connectionIdLength} bytes that name the worker.
         */
        ChannelHandler codec(ServerWorker worker, int connectionIdLength,
                io.netty.handler.codec.quic.QuicConnectionIdGenerator idGenerator) {
            QuicServerCodecBuilder builder = QuicTransport.configure(Http3.newQuicServerCodecBuilder(),
                            config.idleTimeout(), udpPayload, config.udpPayloadSize(), config.congestionControl(),
                            config.datagramQueueLength())
                    .sslContext(tls)
                    // Retry before any handshake work: a spoofed source address gets one small packet back, no more.
                    .tokenHandler(tokens)
                    // Sessions plus a few plain requests; quiche grants more as streams finish, so this bounds
                    // concurrent streams, not their total.
                    .initialMaxStreamsBidirectional(config.maxSessionsPerConnection() + 4L)
                    // quiche keeps a path for every address a client came from, each holding one of the client's
                    // connection IDs, and drops packets from a new address once the IDs run out: with quiche's 2, a
                    // session survived one NAT rebinding; with 16 it survives 15.
                    .activeConnectionIdLimit(ACTIVE_CONNECTION_ID_LIMIT)
                    .handler(new ChannelInitializer<QuicChannel>() {
                        @Override
                        protected void initChannel(QuicChannel quic) {
                            WebTransportConnection connection = new WebTransportConnection(
                                    WebTransportServer.this, worker, lan, counters);
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
            if (idGenerator != null) {
                builder.localConnectionIdLength(connectionIdLength).connectionIdAddressGenerator(idGenerator);
            }
            if (epoll) {
                // GSO: several QUIC packets of one flush leave in one sendmsg.
                builder.option(QuicChannelOption.SEGMENTED_DATAGRAM_PACKET_ALLOCATOR,
                        EpollQuicUtils.newSegmentedAllocator(HttpDatagram.GSO_SEGMENTS));
            }
            return builder.build();
        }
    }

    /** The largest UDP payload this server sends on any path: what its link carries, at most the configured size. */
    public int udpPayload() {
        return udpPayload;
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) socket.localAddress();
    }

    /** Whether every socket of this server receives a client's burst in one read (UDP GRO; epoll only). */
    boolean receivesBursts() {
        return sockets.stream().allMatch(channel -> channel instanceof EpollDatagramChannel
                && channel.config().getOption(EpollChannelOption.UDP_GRO));
    }

    /**
     * The UDP receive buffer the kernel actually granted: Linux caps SO_RCVBUF at net.core.rmem_max, so this may
     * be less than configured, and bursts then overflow it (see netstat -su "receive buffer errors").
     */
    public int effectiveReceiveBufferBytes() {
        return socket.config().getOption(ChannelOption.SO_RCVBUF);
    }

    /** The first worker's loop: the gauges run there, and the LANs of a gate that does not place them. */
    public IoEventLoop eventLoop() {
        return loop;
    }

    public WebTransportServerConfig config() {
        return config;
    }

    /** Open sessions over all connections (safe to read from any thread). */
    public int sessionCount() {
        return sessions.get();
    }

    /**
     * Frames waiting in the sessions' outbound queues: {@code [total, deepest single queue]}. On the event loop
     * (the queues belong to it).
     */
    public int[] queuedFrames() {
        int total = 0;
        int deepest = 0;
        for (ServerWorker worker : workers) {
            int[] depths = worker.index == 0 ? queuedFrames(worker) : worker.queuedFrames;
            total += depths[0];
            deepest = Math.max(deepest, depths[1]);
        }
        return new int[] {total, deepest};
    }

    /** {@code [total, deepest]} over the sessions of {@code worker}'s connections; on its loop. */
    private int[] queuedFrames(ServerWorker worker) {
        int total = 0;
        int deepest = 0;
        for (WebTransportConnection connection : connections) {
            if (connection.worker() == worker) {
                int[] depths = connection.queuedFrames();
                total += depths[0];
                deepest = Math.max(deepest, depths[1]);
            }
        }
        return new int[] {total, deepest};
    }

    /** Whether the UDP socket is open. */
    public boolean isOpen() {
        for (Channel open : sockets) {
            if (!open.isOpen()) {
                return false;
            }
        }
        return true;
    }

    /** Open QUIC connections (safe to read from any thread). */
    public int connectionCount() {
        return connectionCount.get();
    }

    boolean connectionOpened() {
        while (true) {
            int open = connectionCount.get();
            if (open >= config.maxConnections()) {
                return false;
            }
            if (connectionCount.compareAndSet(open, open + 1)) {
                return true;
            }
        }
    }

    void connectionClosed() {
        connectionCount.decrementAndGet();
    }

    boolean sessionCanOpen() {
        return sessions.get() < config.maxSessions();
    }

    void sessionOpened() {
        sessions.incrementAndGet();
    }

    void sessionClosed() {
        sessions.decrementAndGet();
    }

    /** Takes one of the {@link #MAX_RECOVERY_SESSIONS}; false when all are taken. */
    boolean recoveryGranted() {
        if (recoverySessions.incrementAndGet() > MAX_RECOVERY_SESSIONS) {
            recoverySessions.decrementAndGet();
            return false;
        }
        return true;
    }

    void recoveryEnded() {
        recoverySessions.decrementAndGet();
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
            for (Channel open : sockets) {
                open.closeFuture().awaitUninterruptibly();
            }
            return;
        }
        for (ServerWorker worker : workers) {
            worker.loop.submit(() -> {
                for (WebTransportConnection connection : new ArrayList<>(connections)) {
                    if (connection.worker() == worker) {
                        connection.closeSessions(0, "relay shutting down");
                    }
                }
            }).awaitUninterruptibly();
        }
        // The capsules and FINs need a moment on the wire before CONNECTION_CLOSE overtakes them, and a client too busy
        // to read its socket (a flood of frames that has just stopped, the window a burst of 376 KB) may have lost
        // them: QUIC retransmits them meanwhile. At 50 ms, clients under a broadcast flood on a 2-core machine lost
        // them in 3 of 4 runs and waited out their idle timeout instead; at 300 ms in none of 4.
        try {
            Thread.sleep(CLOSE_GRACE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (ServerWorker worker : workers) {
            worker.loop.submit(() -> {
                for (WebTransportConnection connection : new ArrayList<>(connections)) {
                    if (connection.worker() == worker) {
                        connection.closeConnection("relay shutting down");
                    }
                }
            }).awaitUninterruptibly();
        }
        for (int i = 0; i < sockets.size(); i++) {
            Channel open = sockets.get(i);
            workers.get(i).loop.submit(() -> open.close()).awaitUninterruptibly();
            open.closeFuture().awaitUninterruptibly();
        }
        if (queuedFramesTask != null) {
            queuedFramesTask.forEach(task -> task.cancel(false));
        }
        // Nothing reads the sockets now: what waits in the hand-off queues is freed on each LAN's loop, after any
        // drain already scheduled there.
        for (ServerWorker owner : workers) {
            owner.loop.submit(() -> workers.forEach(worker -> worker.closeToLan(owner.index))).awaitUninterruptibly();
        }
        for (ServerWorker worker : workers) {
            worker.loop.submit(() -> {
                worker.closeFromLan();
                for (QuicPacketHandOver from : handOvers) {
                    from.closeTo(worker.index); // the QUIC packets still on their way to this worker
                }
            }).awaitUninterruptibly();
        }
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
