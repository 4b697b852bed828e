package dev.riscvrelay.relay.transport.wisp;

import dev.riscvrelay.relay.access.AccessTokens;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.channel.ChannelHandler;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The WISP endpoint of the relay's web listeners ({@code /wisp/}, {@code /net/NAME/wisp/}): TCP and UDP streams of
 * browser clients (v86's {@code wisp://} network, libcurl.js, epoxy-tls) multiplexed on one WebSocket, carried by
 * host sockets under the networks' egress policy, tokens and host budget. Hands one handler per web connection,
 * placed after the HTTP codec, which claims WISP upgrades and lets every other request pass.
 */
public final class WispService implements Supplier<ChannelHandler>, AutoCloseable {

    final WispGate gate;
    final AccessTokens tokens;
    final WispConfig config;
    final Counters counters;
    final WispResolver resolver;
    /**
     * Connections past their upgrade and streams open or opening: written by the loops of their networks, read by
     * exporters.
     */
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger streams = new AtomicInteger();

    public WispService(WispGate gate, AccessTokens tokens, WispConfig config, Counters counters) {
        this.gate = gate;
        this.tokens = tokens;
        this.config = config;
        this.counters = counters;
        this.resolver = new WispResolver(config.resolverThreads(), config.resolutionsQueued());
    }

    @Override
    public ChannelHandler get() {
        return new WispRequest(this);
    }

    /** WISP connections now (safe from any thread). */
    public int connectionCount() {
        return connections.get();
    }

    /** WISP streams open or opening now (safe from any thread). */
    public int streamCount() {
        return streams.get();
    }

    /** Stops the resolver threads; the connections close with their listeners. */
    @Override
    public void close() {
        resolver.close();
    }
}
