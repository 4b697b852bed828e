package dev.riscvrelay.relay;

import dev.riscvrelay.relay.gateway.Gateway;
import dev.riscvrelay.relay.gateway.GatewayConfig;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.SwitchConfig;
import dev.riscvrelay.relay.tls.RelayCertificate;
import dev.riscvrelay.relay.transport.webtransport.WebTransportServer;
import dev.riscvrelay.relay.transport.webtransport.WebTransportServerConfig;
import dev.riscvrelay.relay.transport.websocket.WebSocketServer;
import dev.riscvrelay.relay.transport.websocket.WebSocketServerConfig;
import dev.riscvrelay.relay.web.WebContent;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The running relay: wires one event loop, the switch it owns, the gateway and the WebTransport server.
 * It only assembles; each part does its own job.
 */
public final class Relay implements AutoCloseable {

    private final IoEventLoopGroup group;
    private final LearningSwitch lan;
    private final Gateway gateway;
    private final WebTransportServer server;
    private final WebSocketServer webSocket;
    private final WebSocketServer demo;
    private final Counters counters;
    private final ScheduledFuture<?> macSweep;
    private final CountDownLatch closed = new CountDownLatch(1);

    private Relay(IoEventLoopGroup group, LearningSwitch lan, Gateway gateway, WebTransportServer server,
            WebSocketServer webSocket, WebSocketServer demo, Counters counters, ScheduledFuture<?> macSweep) {
        this.group = group;
        this.lan = lan;
        this.gateway = gateway;
        this.server = server;
        this.webSocket = webSocket;
        this.demo = demo;
        this.counters = counters;
        this.macSweep = macSweep;
    }

    /**
     * Starts the relay on {@code config.bind():config.port()}.
     *
     * @throws StartException with a one-line reason when it cannot listen
     */
    public static Relay start(RelayConfig config, RelayCertificate certificate) throws StartException {
        Counters counters = new Counters();
        // One loop owns the UDP socket, every QUIC connection, the switch and the gateway: no locks anywhere.
        IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        IoEventLoop loop = (IoEventLoop) group.next();
        LearningSwitch lan = new LearningSwitch(new SwitchConfig(config.macTableSize(), config.macAging()), counters);
        Gateway gateway = new Gateway(GatewayConfig.defaults(), lan, PooledByteBufAllocator.DEFAULT, counters);
        try {
            loop.submit(() -> lan.attach(gateway)).syncUninterruptibly();
            WebTransportServerConfig defaults = WebTransportServerConfig.defaults();
            WebTransportServerConfig serverConfig = new WebTransportServerConfig(
                    Math.max(defaults.maxConnections(), config.maxSessions()), config.maxSessions(),
                    defaults.maxSessionsPerConnection(), config.portQueueFrames(), config.idleTimeout(),
                    // Keep-alives well inside the idle timeout, so one lost keep-alive does not end a session.
                    config.idleTimeout().dividedBy(3), defaults.udpPayloadSize(), defaults.datagramQueueLength(),
                    defaults.receiveBufferBytes());
            WebTransportServer server = new WebTransportServer(config.bind(), config.port(), certificate, lan,
                    counters, serverConfig, loop);
            WebSocketServer webSocket;
            WebSocketServer demo;
            try {
                int relayPort = server.localAddress().getPort();
                WebOptions.WebSocketMode mode = config.web().webSocket().resolve(config.bind());
                String scheme = switch (mode) {
                    case TLS -> "wss";
                    case PLAIN -> "ws";
                    default -> "off";
                };
                WebContent content = new WebContent(config.web().v86Directory(),
                        new WebContent.RelayInfo(certificate.sha256Hex(), relayPort, scheme));
                // The same port number over TCP: one address for both transports (and the page, over HTTPS).
                webSocket = mode == WebOptions.WebSocketMode.OFF ? null : new WebSocketServer(config.bind(),
                        relayPort, certificate, lan, counters,
                        WebSocketServerConfig.defaults(mode == WebOptions.WebSocketMode.TLS)
                                .withLimits(config.maxSessions(), config.portQueueFrames()),
                        content, loop);
                demo = config.web().demoAddress() == null ? null : startDemo(config, certificate, lan, counters,
                        content, loop, webSocket);
            } catch (WebSocketServer.PortInUseException e) {
                server.close();
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                throw new StartException("cannot listen on tcp: " + e.getMessage());
            } catch (RuntimeException e) {
                server.close();
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                throw new StartException("cannot listen on tcp: " + e.getMessage());
            }
            ScheduledFuture<?> sweep = loop.scheduleAtFixedRate(lan::expireMacs, 1, 1, TimeUnit.SECONDS);
            return new Relay(group, lan, gateway, server, webSocket, demo, counters, sweep);
        } catch (WebTransportServer.PortInUseException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new StartException("cannot listen on udp " + hostPort(config) + ": address already in use");
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new StartException("cannot listen on udp " + hostPort(config) + ": " + e.getMessage());
        }
    }

    /** The demo web server: plain HTTP (the page, the VM files, and WebSocket upgrades too). */
    private static WebSocketServer startDemo(RelayConfig config, RelayCertificate certificate, LearningSwitch lan,
            Counters counters, WebContent content, IoEventLoop loop, WebSocketServer relaySocket)
            throws WebSocketServer.PortInUseException {
        try {
            return new WebSocketServer(config.web().demoAddress().getAddress(), config.web().demoAddress().getPort(),
                    certificate, lan, counters, WebSocketServerConfig.defaults(false)
                            .withLimits(config.maxSessions(), config.portQueueFrames()), content, loop);
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

    /** Blocks until {@link #close()} has finished. */
    public void awaitClose() throws InterruptedException {
        closed.await();
    }

    /** Closes every session cleanly, then the socket and the loop. Safe to call twice. */
    @Override
    public void close() {
        if (closed.getCount() == 0) {
            return;
        }
        synchronized (this) {
            if (closed.getCount() == 0) {
                return;
            }
            macSweep.cancel(false);
            if (demo != null) {
                demo.close();
            }
            if (webSocket != null) {
                webSocket.close();
            }
            server.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            closed.countDown();
        }
    }

    /** The relay could not start; the message is one line for the operator. */
    public static final class StartException extends Exception {
        public StartException(String message) {
            super(message);
        }
    }
}
