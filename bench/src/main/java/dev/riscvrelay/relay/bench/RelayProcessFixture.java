package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.access.SessionLimits;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClient;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoop;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The relay itself, started as {@code relay} starts it, in a process of its own on loopback; its endpoints are
 * Java WebTransport clients in the bench's process. Its CPU time is read from /proc, so it holds the relay's
 * own work (and its own GC) and none of the load generator's.
 */
public final class RelayProcessFixture implements Fixture {

    /** The relay's one Netty event loop: "multiThreadIoEventLoopGroup-N-1", cut to 15 characters in /proc. */
    static final String LOOP_THREAD = "multiThreadIoEv";
    /** The same thread by its Java name, as a JFR recording of the relay names it. */
    static final String LOOP_THREAD_JAVA = "multiThreadIoEventLoopGroup";

    private final ForwarderProcess relay;
    private final String certificateHash;
    private final URI uri;

    public RelayProcessFixture(int maxSessions) {
        this.relay = ForwarderProcess.start("relay", RelayProcesses.java(jvmOptions(), "dev.riscvrelay.relay.cli"
                + ".RelayCommand", arguments(maxSessions)), name -> name.startsWith(LOOP_THREAD));
        try {
            this.certificateHash = relay.awaitLine(RelayProcesses.HASH).group(1);
            int port = Integer.parseInt(relay.awaitLine(RelayProcesses.LISTENING).group(1));
            this.uri = URI.create("https://127.0.0.1:" + port + "/bench");
        } catch (RuntimeException e) {
            relay.close();
            throw e;
        }
    }

    /** The launcher's JVM options (./relay): the same direct-memory bound, the JVM's own heap sizing. */
    static List<String> jvmOptions() {
        return List.of("-XX:MaxDirectMemorySize=2g");
    }

    /**
     * Loopback, any free port, the admin port for its counters, no WebSocket. Every endpoint comes from 127.0.0.1
     * and each sends as fast as it can: the per-address and per-session limits, meant for the public, would measure
     * themselves instead of the relay, so they are lifted to the most the relay takes.
     */
    static List<String> arguments(int maxSessions) {
        String sessions = Integer.toString(maxSessions);
        String rate = Long.toString(SessionLimits.MAX_RATE);
        return List.of("--bind", "127.0.0.1", "--port", "0", "--admin", "127.0.0.1:0", "--websocket", "off",
                "--max-sessions", sessions, "--max-sessions-per-ip", sessions, "--session-frame-rate", rate,
                "--session-byte-rate", rate);
    }

    @Override
    public String name() {
        return BenchReport.RELAY;
    }

    @Override
    public String description() {
        return "the relay in its own process: QUIC (TLS 1.3) + HTTP/3 WebTransport sessions as switch ports, one"
                + " event loop";
    }

    @Override
    public List<Endpoint> open(int count, IoEventLoop loop, Endpoint.Receiver receiver) throws Exception {
        List<CompletableFuture<WebTransportClient>> pending = new ArrayList<>();
        WebTransportClientConfig config = WebTransportClientConfig.pinned(certificateHash)
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
    public Map<Counter, Long> counters() {
        return relay.counters();
    }

    @Override
    public CpuTime cpu() {
        return relay.cpu();
    }

    /** The relay's process, for a profiler to attach to. */
    public long pid() {
        return relay.pid();
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
