package dev.riscvrelay.relay;

import dev.riscvrelay.relay.access.SessionGate;
import dev.riscvrelay.relay.cluster.Cluster;
import dev.riscvrelay.relay.cluster.ClusterOptions;
import dev.riscvrelay.relay.cluster.Trunks;
import dev.riscvrelay.relay.forward.ForwardException;
import dev.riscvrelay.relay.forward.ForwardSpec;
import dev.riscvrelay.relay.forward.ForwardTarget;
import dev.riscvrelay.relay.forward.Forwards;
import dev.riscvrelay.relay.forward.WebPreviews;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.metrics.LoopSnapshot;
import dev.riscvrelay.relay.metrics.WorkerStats;
import dev.riscvrelay.relay.ops.Operations;
import dev.riscvrelay.relay.ops.OperationsConfig;
import dev.riscvrelay.relay.ops.RelayState;
import dev.riscvrelay.relay.ops.api.LanInspector;
import dev.riscvrelay.relay.switching.FrameTap;
import dev.riscvrelay.relay.tls.CertificateManager;
import dev.riscvrelay.relay.tls.RelayCertificate;
import dev.riscvrelay.relay.transport.websocket.WebSocketServer;
import dev.riscvrelay.relay.transport.websocket.WebSocketServerConfig;
import dev.riscvrelay.relay.transport.webtransport.WebTransportServer;
import dev.riscvrelay.relay.transport.webtransport.WebTransportServerConfig;
import dev.riscvrelay.relay.transport.wisp.WispConfig;
import dev.riscvrelay.relay.transport.wisp.WispService;
import dev.riscvrelay.relay.web.WebContent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The running relay: wires its workers' event loops and the web loop, the networks spread over the workers (each a
 * switch, a gateway with its services (ARP, ping, DHCP, DNS over UDP and TCP) and its route to the NAT), and the
 * WebTransport and WebSocket servers, which ask the networks' gate which network a new session joins. It only
 * assembles; each part does its own job.
 */
public final class Relay implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Relay.class.getName());
    /** How long {@link #close} waits for a loop group to stop (it gives their tasks one second). */
    private static final long LOOP_STOP_WAIT_SECONDS = 3;

    private final IoEventLoopGroup group;
    /** The web listeners' loop: accepts, TLS handshakes, HTTP, the page's files. */
    private final IoEventLoopGroup web;
    private final Networks networks;
    private final WebTransportServer server;
    private final WebSocketServer webSocket;
    private final WebSocketServer demo;
    private final Counters counters;
    private final ScheduledFuture<?> snapshotTask;
    /** Sizes of loop-owned tables, published by the loop for exporters on other threads. */
    private volatile LoopSnapshot snapshot = LoopSnapshot.EMPTY;
    private Operations operations;
    private Forwards forwards;
    /** The cluster this relay joined, or null. */
    private Cluster cluster;
    private final WispService wisp;
    private final CountDownLatch closed = new CountDownLatch(1);

    private Relay(IoEventLoopGroup group, IoEventLoopGroup web, Networks networks, WebTransportServer server,
            WebSocketServer webSocket, WebSocketServer demo, Counters counters, WispService wisp) {
        this.group = group;
        this.web = web;
        this.wisp = wisp;
        this.networks = networks;
        this.server = server;
        this.webSocket = webSocket;
        this.demo = demo;
        this.counters = counters;
        this.snapshotTask = server.eventLoop().scheduleAtFixedRate(this::publishSnapshot, 0, 1, TimeUnit.SECONDS);
    }

    /**
     * Starts the relay on {@code config.bind():config.port()}.
     *
     * @throws StartException with a one-line reason when it cannot listen
     */
    public static Relay start(RelayConfig config, RelayCertificate certificate) throws StartException {
        return start(config, CertificateManager.fixed(certificate), OperationsConfig.off());
    }

    /**
     * Starts the relay with an identity that may be renewed while it runs, and its operations (metrics, admin
     * server, capture, summary).
     *
     * @throws StartException with a one-line reason when it cannot listen
     */
    public static Relay start(RelayConfig config, CertificateManager certificates, OperationsConfig operationsConfig)
            throws StartException {
        return start(config, certificates, operationsConfig, null, line -> { });
    }

    /**
     * As {@link #start(RelayConfig, CertificateManager, OperationsConfig)}, joining a cluster when {@code cluster}
     * is not null: every network is then one LAN with the same network on the cluster's other relays.
     *
     * @param log where the cluster's connection lines go
     */
    public static Relay start(RelayConfig config, CertificateManager certificates, OperationsConfig operationsConfig,
            ClusterOptions cluster, Consumer<String> log) throws StartException {
        Counters counters = new Counters();
        Cluster joined = null;
        if (cluster != null) {
            try {
                joined = Cluster.start(cluster, config.network().leaseTime(), certificates, counters, log);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StartException("interrupted while joining the cluster");
            } catch (IllegalArgumentException e) {
                throw new StartException("cannot join the cluster: " + e.getMessage());
            }
        }
        Relay relay;
        try {
            relay = startDataPlane(config, certificates, counters, joined == null ? Trunks.NONE : joined);
        } catch (StartException | RuntimeException e) {
            if (joined != null) {
                joined.close();
            }
            throw e;
        }
        relay.cluster = joined;
        try {
            relay.openForwards(config);
        } catch (ForwardException e) {
            relay.close();
            throw new StartException(e.getMessage());
        }
        try {
            relay.operations = Operations.start(operationsConfig, relay.state(), certificates, relay.counters);
        } catch (IOException | RuntimeException e) {
            relay.close();
            throw new StartException(e.getMessage());
        }
        return relay;
    }

    private static Relay startDataPlane(RelayConfig config, CertificateManager certificates, Counters counters,
            Trunks trunks) throws StartException {
        // One loop per worker, each with its UDP socket and the QUIC connections that arrived on it; each network
        // (switch, gateway, NAT) belongs to one of them, by its name, with its forwards' listeners and every web
        // connection that joins it (it moves there from the web loop at its first such request). Frames cross
        // between loops through hand-off queues only; the gate's shared counts take a lock per admission.
        IoHandlerFactory io = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        // Several sockets on one port need SO_REUSEPORT (epoll); elsewhere the relay runs one worker, which then also
        // runs every network.
        IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(Epoll.isAvailable() ? config.workers() : 1,
                new LoopThreads("relay-worker-"), io);
        // The web listeners' own loop: TLS handshakes, HTTP and the page's files never take a turn of the LAN's loop.
        IoEventLoopGroup web = new MultiThreadIoEventLoopGroup(1, new LoopThreads("relay-web"), io);
        IoEventLoop webLoop = (IoEventLoop) web.next();
        List<IoEventLoop> loops = new java.util.ArrayList<>();
        group.forEach(executor -> loops.add((IoEventLoop) executor));
        IoEventLoop loop = loops.getFirst();
        trunks.runOn(loop);
        Networks networks = null;
        try {
            // Built on the loop: the NAT's ping-socket probe and the host's own addresses belong to its thread.
            networks = loop.submit(() -> new Networks(config, loops, counters, NanoClock.SYSTEM, trunks))
                    .syncUninterruptibly().getNow();
            WebTransportServerConfig defaults = WebTransportServerConfig.defaults();
            WebTransportServerConfig serverConfig = new WebTransportServerConfig(
                    Math.max(defaults.maxConnections(), config.maxSessions()), config.maxSessions(),
                    defaults.maxSessionsPerConnection(), config.portQueueFrames(), config.idleTimeout(),
                    // Keep-alives well inside the idle timeout, so one lost keep-alive does not end a session.
                    config.idleTimeout().dividedBy(3), defaults.udpPayloadSize(), defaults.datagramQueueLength(),
                    defaults.receiveBufferBytes(), config.congestionControl());
            WebSocketServer webSocket = null;
            WebSocketServer demo;
            // The TLS of wss:// and the page over HTTPS take the certificate of the start; WebTransport renews.
            RelayCertificate certificate = certificates.current();
            WebOptions.WebSocketMode mode = config.web().webSocket().resolve(config.bind());
            String scheme = switch (mode) {
                case TLS -> "wss";
                case PLAIN -> "ws";
                default -> "off";
            };
            WebTransportServer server;
            WebContent content;
            for (int attempt = 1; ; attempt++) {
                server = new WebTransportServer(config.bind(), config.port(), certificates::current, networks,
                        counters, serverConfig, loops);
                int relayPort = server.localAddress().getPort();
                content = new WebContent(config.web().v86Directory(),
                        new WebContent.RelayInfo(() -> certificates.current().sha256Hex(), relayPort, scheme,
                                config.web().pageRelays()));
                try {
                    // The same port number over TCP: one address for both transports (and the page, over HTTPS).
                    webSocket = mode == WebOptions.WebSocketMode.OFF ? null : new WebSocketServer(config.bind(),
                            relayPort, certificate, networks, counters,
                            WebSocketServerConfig.defaults(mode == WebOptions.WebSocketMode.TLS)
                                    .withLimits(config.maxSessions(), config.portQueueFrames()),
                            content, webLoop, loop);
                    break;
                } catch (WebSocketServer.PortInUseException | RuntimeException e) {
                    server.close();
                    // With --port 0 the kernel chose a UDP port whose number another socket holds over TCP: choose
                    // again, a few times, rather than fail a start that asked for any port.
                    if (config.port() == 0 && e instanceof WebSocketServer.PortInUseException && attempt < 5) {
                        continue;
                    }
                    stopEarly(group, web, networks);
                    throw new StartException("cannot listen on tcp " + hostPort(config) + ": " + e.getMessage());
                }
            }
            try {
                demo = config.web().demoAddress() == null ? null : startDemo(config, certificate, networks, counters,
                        content, webLoop, loop, webSocket);
            } catch (WebSocketServer.PortInUseException | RuntimeException e) {
                server.close(); // startDemo closed the WebSocket listener
                stopEarly(group, web, networks);
                throw new StartException("cannot listen on tcp " + hostPort(config) + ": " + e.getMessage());
            }
            // WISP streams on the same web listeners, through the networks' tokens, policy and budget.
            WispService wisp = new WispService(networks, config.access().tokens(), WispConfig.defaults(), counters);
            if (webSocket != null) {
                webSocket.useWisp(wisp);
            }
            if (demo != null) {
                demo.useWisp(wisp);
            }
            return new Relay(group, web, networks, server, webSocket, demo, counters, wisp);
        } catch (WebTransportServer.PortInUseException e) {
            stopEarly(group, web, networks);
            throw new StartException("cannot listen on udp " + hostPort(config) + ": address already in use");
        } catch (RuntimeException e) {
            stopEarly(group, web, networks);
            throw new StartException("cannot start on udp " + hostPort(config) + ": " + e.getMessage());
        }
    }

    /**
     * Opens the forwards of the command line and the web previews on the web listeners; each network is looked up
     * on the loop when a client comes.
     */
    private void openForwards(RelayConfig config) throws ForwardException {
        ForwardTarget.Lookup targets = name -> {
            Network network = networks.network(name);
            if (network != null && !network.loop().inEventLoop()) {
                // A forward or preview on another loop would drive the network's NAT off its owner's thread.
                throw new IllegalStateException("network " + name + " is used on its own loop, not on "
                        + Thread.currentThread().getName());
            }
            return network == null ? null : network.forwardTarget();
        };
        forwards = new Forwards(networks::loopOf, targets, counters);
        for (ForwardSpec spec : config.forwards()) {
            forwards.open(spec);
        }
        WebPreviews previews = new WebPreviews(config.access().tokens(), targets, counters);
        if (webSocket != null) {
            webSocket.usePreviews(previews);
        }
        if (demo != null) {
            demo.usePreviews(previews);
        }
    }

    /** The open port forwards. */
    public Forwards forwards() {
        return forwards;
    }

    /** Undoes a start that failed half-way. */
    private static void stopEarly(IoEventLoopGroup group, IoEventLoopGroup web, Networks networks) {
        web.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        if (networks != null) {
            networks.close(); // each network on its own loop
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /** The demo web server: plain HTTP (the page, the VM files, and WebSocket upgrades too). */
    private static WebSocketServer startDemo(RelayConfig config, RelayCertificate certificate, SessionGate lan,
            Counters counters, WebContent content, IoEventLoop webLoop, IoEventLoop lanLoop,
            WebSocketServer relaySocket) throws WebSocketServer.PortInUseException {
        try {
            return new WebSocketServer(config.web().demoAddress().getAddress(), config.web().demoAddress().getPort(),
                    certificate, lan, counters, WebSocketServerConfig.defaults(false)
                            .withLimits(config.maxSessions(), config.portQueueFrames()), content, webLoop, lanLoop);
        } catch (WebSocketServer.PortInUseException | RuntimeException e) {
            if (relaySocket != null) {
                relaySocket.close();
            }
            throw e;
        }
    }

    private static String hostPort(RelayConfig config) {
        return config.bind().getHostAddress() + ":" + config.port();
    }

    /** The UDP port actually bound (useful with port 0). */
    public int port() {
        return server.localAddress().getPort();
    }

    /** The TCP listener carrying WebSocket on the relay's port number, or null when off. */
    public WebSocketServer webSocket() {
        return webSocket;
    }

    /** The demo web server's address, or null when there is none. */
    public java.net.InetSocketAddress demoAddress() {
        return demo == null ? null : demo.localAddress();
    }

    public Counters counters() {
        return counters;
    }

    /** Where the admin HTTP server listens, or null without one. */
    public InetSocketAddress adminAddress() {
        return operations == null ? null : operations.adminAddress();
    }

    /** The latest sizes of the loop's tables and queues. */
    public LoopSnapshot snapshot() {
        return snapshot;
    }

    /**
     * On the first loop: copies what exporters show into one immutable snapshot (the networks of other loops as
     * their loops last saw them).
     */
    private void publishSnapshot() {
        int[] queued = server.queuedFrames();
        int[] sums = new int[5];
        networks.forEach(network -> {
            Network.Sizes sizes = network.sizes();
            sums[0] += sizes.learnedMacs();
            sums[1] += sizes.udpFlows();
            sums[2] += sizes.icmpFlows();
            sums[3] += sizes.tcpConnections();
            sums[4] += sizes.boundLeases();
        });
        int sessions = server.sessionCount() + (webSocket == null ? 0 : webSocket.memberCount())
                + (demo == null ? 0 : demo.memberCount());
        snapshot = new LoopSnapshot(sessions, server.connectionCount(), sums[0], sums[1], sums[2], sums[3],
                sums[4], queued[0], queued[1], networks.count(), networks.budget().sockets(),
                networks.budget().bufferBytes(), wisp.connectionCount(), wisp.streamCount());
    }

    /** The relay as operations see it: read-only, from any thread, except installing the capture tap. */
    private RelayState state() {
        WorkerStats workerStats = workerStats();
        LoopLanInspector lans = new LoopLanInspector(networks);
        return new RelayState() {
            @Override
            public LoopSnapshot snapshot() {
                return snapshot;
            }

            @Override
            public boolean socketOpen() {
                return server.isOpen();
            }

            @Override
            public boolean loopRespondsWithin(Duration timeout) {
                // Every worker runs networks now: each must answer, all within the one timeout.
                long deadline = System.nanoTime() + timeout.toNanos();
                for (int i = 0; i < server.workerCount(); i++) {
                    long left = Math.max(0, deadline - System.nanoTime());
                    if (!server.workerLoop(i).submit(() -> { }).awaitUninterruptibly(left, TimeUnit.NANOSECONDS)) {
                        return false;
                    }
                }
                return true;
            }

            @Override
            public Forwards forwards() {
                return forwards;
            }

            @Override
            public WorkerStats workers() {
                return workerStats;
            }

            @Override
            public void setTap(FrameTap tap) {
                networks.setTap(tap); // each network takes it on its own loop
            }

            @Override
            public LanInspector lans() {
                return lans;
            }
        };
    }

    /** Each worker's figures, its thread found by running a task on its loop (threads start lazily, in any order). */
    private WorkerStats workerStats() {
        int count = server.workerCount();
        long[] threadIds = new long[count];
        for (int i = 0; i < count; i++) {
            threadIds[i] = server.workerLoop(i).submit(() -> Thread.currentThread().threadId())
                    .syncUninterruptibly().getNow();
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        boolean cpuClock = threads.isThreadCpuTimeSupported();
        return new WorkerStats() {
            @Override
            public int workers() {
                return count;
            }

            @Override
            public double cpuSeconds(int worker) {
                long nanos = cpuClock ? threads.getThreadCpuTime(threadIds[worker]) : -1;
                return nanos < 0 ? 0 : nanos / 1e9; // -1: the thread has ended (the relay is closing)
            }

            @Override
            public int connections(int worker) {
                return server.connectionCount(worker);
            }

            @Override
            public long framesToLan(int worker) {
                return server.framesToLan(worker);
            }

            @Override
            public long packetsHandedOver(int worker) {
                return server.packetsHandedOver(worker);
            }

            @Override
            public long framesFromLan(int worker) {
                return server.framesFromLan(worker);
            }
        };
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClose() throws InterruptedException {
        closed.await();
    }

    /**
     * Closes every session cleanly, then the socket and the loop. Safe to call twice. Each part closes even when one
     * before it failed (the failure is logged), and {@link #awaitClose} returns in any case: a stop signal must stop
     * the relay, not leave it half closed and still holding its ports.
     */
    @Override
    public void close() {
        if (closed.getCount() == 0) {
            return;
        }
        synchronized (this) {
            if (closed.getCount() == 0) {
                return;
            }
            try {
                // The admin server and timers stop first, a capture is flushed; then every session hears why it ends.
                Map<String, Runnable> parts = new LinkedHashMap<>();
                parts.put("the admin server", operations == null ? null : operations::close);
                parts.put("the snapshot timer", () -> snapshotTask.cancel(false));
                parts.put("the port forwards", forwards == null ? null : forwards::close);
                parts.put("the demo", demo == null ? null : demo::close);
                parts.put("the WebSocket server", webSocket == null ? null : webSocket::close);
                parts.put("the WebTransport server", server::close);
                parts.put("the networks", networks::close); // each network on its own loop
                parts.put("WISP", wisp::close);
                parts.put("the cluster", cluster == null ? null : cluster::close);
                parts.put("the web loop", () -> stopLoops(web));
                parts.put("the worker loops", () -> stopLoops(group));
                closeEach(parts, (part, failure) -> LOG.log(Level.WARNING, "closing " + part + " failed", failure));
            } finally {
                closed.countDown();
            }
        }
    }

    /** Stops a loop group, waiting a bounded time: a loop whose thread died never reports that it stopped. */
    private static void stopLoops(IoEventLoopGroup loops) {
        if (!loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(LOOP_STOP_WAIT_SECONDS,
                TimeUnit.SECONDS)) {
            throw new IllegalStateException("its threads did not stop within " + LOOP_STOP_WAIT_SECONDS + " s");
        }
    }

    /**
     * Closes each part in order (a null close: the relay runs without that part), each even when one before it
     * threw, and hands each failure to {@code onFailure}. An {@link Error} too: a class that no longer loads because
     * the jar was overwritten while the relay ran is one. Only JDK types here, for that reason.
     */
    static void closeEach(Map<String, Runnable> parts, BiConsumer<String, Throwable> onFailure) {
        for (Map.Entry<String, Runnable> part : parts.entrySet()) {
            if (part.getValue() == null) {
                continue;
            }
            try {
                part.getValue().run();
            } catch (Throwable failure) {
                onFailure.accept(part.getKey(), failure);
            }
        }
    }

    /** The relay could not start; the message is one line for the operator. */
    public static final class StartException extends Exception {
        public StartException(String message) {
            super(message);
        }
    }
}
