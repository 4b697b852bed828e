package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.Relay;
import dev.riscvrelay.relay.RelayConfig;
import dev.riscvrelay.relay.access.AccessConfig;
import dev.riscvrelay.relay.access.SessionLimits;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.tls.RelayCertificate;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClient;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoop;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The relay itself, started in this process on loopback; its endpoints are Java WebTransport clients. */
public final class RelayFixture implements Fixture {

    private final Relay relay;
    private final RelayCertificate certificate;
    private final List<Thread> threads;
    private final URI uri;

    public RelayFixture(int maxSessions) throws Relay.StartException {
        this.certificate = RelayCertificate.selfSignedForLocalhost();
        // Every endpoint comes from 127.0.0.1 and each sends as fast as it can: the per-address and per-session
        // limits, meant for the public, would measure themselves instead of the relay.
        RelayConfig config = RelayConfig.defaults(InetAddress.getLoopbackAddress(), 0).withMaxSessions(maxSessions)
                .withAccess(AccessConfig.defaults().withLimits(new SessionLimits(SessionLimits.MAX_RATE,
                        SessionLimits.MAX_RATE, SessionLimits.DEFAULT_MACS_PER_SESSION, maxSessions)));
        // The relay starts its loop thread inside start(); the threads that appear are the relay's.
        Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
        this.relay = Relay.start(config, certificate);
        List<Thread> started = new ArrayList<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (!before.contains(thread) && thread.getName().contains("EventLoop")) {
                started.add(thread);
            }
        }
        this.threads = List.copyOf(started);
        this.uri = URI.create("https://127.0.0.1:" + relay.port() + "/bench");
    }

    @Override
    public String name() {
        return "relay";
    }

    @Override
    public String description() {
        return "the relay: QUIC (TLS 1.3) + HTTP/3 WebTransport sessions as switch ports, one event loop";
    }

    @Override
    public List<Endpoint> open(int count, IoEventLoop loop, Endpoint.Receiver receiver) throws Exception {
        List<CompletableFuture<WebTransportClient>> pending = new ArrayList<>();
        WebTransportClientConfig config = WebTransportClientConfig.pinned(certificate.sha256Hex())
                .withConnectTimeout(Duration.ofSeconds(20));
        for (int i = 0; i < count; i++) {
            int index = i;
            pending.add(WebTransportClient.connect(uri, config, frame -> receiver.onFrame(index, frame), loop));
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (CompletableFuture<WebTransportClient> future : pending) {
            WebTransportClient client = future.get(30, TimeUnit.SECONDS);
            endpoints.add(new ClientEndpoint(client));
        }
        return endpoints;
    }

    @Override
    public Counters counters() {
        return relay.counters();
    }

    @Override
    public List<Thread> threads() {
        return threads;
    }

    @Override
    public void close() {
        relay.close();
    }

    private record ClientEndpoint(WebTransportClient client) implements Endpoint {
        @Override
        public boolean send(ByteBuf frame) {
            return client.sendDatagram(frame);
        }

        @Override
        public void close() {
            client.close();
            client.closed().orTimeout(5, TimeUnit.SECONDS).exceptionally(e -> null).join();
        }
    }
}
