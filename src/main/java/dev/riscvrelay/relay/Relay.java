package dev.riscvrelay.relay;

import dev.riscvrelay.relay.gateway.Gateway;
import dev.riscvrelay.relay.gateway.GatewayConfig;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.SwitchConfig;
import dev.riscvrelay.relay.tls.RelayCertificate;
import dev.riscvrelay.relay.transport.webtransport.WebTransportServer;
import dev.riscvrelay.relay.transport.webtransport.WebTransportServerConfig;
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
    private final Counters counters;
    private final ScheduledFuture<?> macSweep;
    private final CountDownLatch closed = new CountDownLatch(1);

    private Relay(IoEventLoopGroup group, LearningSwitch lan, Gateway gateway, WebTransportServer server,
            Counters counters, ScheduledFuture<?> macSweep) {
        this.group = group;
        this.lan = lan;
        this.gateway = gateway;
        this.server = server;
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
            ScheduledFuture<?> sweep = loop.scheduleAtFixedRate(lan::expireMacs, 1, 1, TimeUnit.SECONDS);
            return new Relay(group, lan, gateway, server, counters, sweep);
        } catch (WebTransportServer.PortInUseException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new StartException("cannot listen on udp " + hostPort(config) + ": address already in use");
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new StartException("cannot listen on udp " + hostPort(config) + ": " + e.getMessage());
        }
    }

    private static String hostPort(RelayConfig config) {
        return config.bind().getHostAddress() + ":" + config.port();
    }

    /** The UDP port actually bound (useful with port 0). */
    public int port() {
        return server.localAddress().getPort();
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
