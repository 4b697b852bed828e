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

    /**
     * The relay's event loops, its workers: "relay-worker-0", "relay-worker-1", ... (whole in /proc, whose thread
     * names stop at 15 characters, up to worker 99).
     */
    static final String LOOP_THREAD = "relay-worker-";
    /** The same threads by their Java names, as a JFR recording of the relay names them. */
    static final String LOOP_THREAD_JAVA = "relay-worker-";
    /** {@code workers} when the relay keeps its own default (one per core). */
    static final int DEFAULT_WORKERS = 0;

    private final String name;
    private final int workers;
    private final boolean networkPerPair;
    private final ForwarderProcess relay;
    private final String certificateHash;
    private final URI base;

    /** P1's relay: a worker per core (the machine's most), every session in the default network. */
    public RelayProcessFixture(int maxSessions) {
        this(BenchReport.RELAY, maxSessions, Runtime.getRuntime().availableProcessors(), false);
    }

    /**
     * @param name the fixture's name in tables
     * @param workers {@code --workers}, or {@link #DEFAULT_WORKERS}
     * @param networkPerPair each pair of partnered endpoints (0 and 1, 2 and 3, ...) in a network of its own
     *     ({@code /net/bench-K}) instead of all in the default one
     */
    public RelayProcessFixture(String name, int maxSessions, int workers, boolean networkPerPair) {
        this.name = name;
        this.workers = workers;
        this.networkPerPair = networkPerPair;
        this.relay = ForwarderProcess.start("relay", RelayProcesses.java(RelayProcesses.launcherOptions(),
                "dev.riscvrelay.relay.cli.RelayCommand", arguments(maxSessions, workers, networkPerPair)),
                thread -> thread.startsWith(LOOP_THREAD));
        try {
            this.certificateHash = relay.awaitLine(RelayProcesses.HASH).group(1);
            int port = Integer.parseInt(relay.awaitLine(RelayProcesses.LISTENING).group(1));
            this.base = URI.create("https://127.0.0.1:" + port);
        } catch (RuntimeException e) {
            relay.close();
            throw e;
        }
    }

    /** The CONNECT path of endpoint {@code index}: its pair's network, or the default network. */
    static String path(int index, boolean networkPerPair) {
        return networkPerPair ? "/net/" + network(index) : "/bench";
    }

    /** The network of endpoint {@code index} when each pair has its own. */
    static String network(int index) {
        return "bench-" + index / 2;
    }

    /**
     * Loopback, any free port, the admin port for its counters, no WebSocket. Every endpoint comes from 127.0.0.1
     * and each sends as fast as it can: the per-address and per-session limits, meant for the public, would measure
     * themselves instead of the relay, so they are lifted to the most the relay takes.
     */
    static List<String> arguments(int maxSessions) {
        return arguments(maxSessions, Runtime.getRuntime().availableProcessors(), false);
    }

    /**
     * As {@link #arguments(int)}, with {@code --workers} when given; with a network per pair, the number of
     * networks and the networks one address may create a minute are lifted as well (one per session at most).
     */
    static List<String> arguments(int maxSessions, int workers, boolean networkPerPair) {
        String sessions = Integer.toString(maxSessions);
        String rate = Long.toString(SessionLimits.MAX_RATE);
        List<String> args = new ArrayList<>(List.of("--bind", "127.0.0.1", "--port", "0", "--admin", "127.0.0.1:0",
                "--websocket", "off", "--max-sessions", sessions, "--max-sessions-per-ip", sessions,
                "--session-frame-rate", rate, "--session-byte-rate", rate));
        if (workers != DEFAULT_WORKERS) {
            args.addAll(List.of("--workers", Integer.toString(workers)));
        }
        if (networkPerPair) {
            args.addAll(List.of("--max-networks", Integer.toString(maxSessions + 1), "--network-creations-per-ip",
                    sessions));
        }
        return args;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return "the relay in its own process: QUIC (TLS 1.3) + HTTP/3 WebTransport sessions as switch ports, "
                + (workers == DEFAULT_WORKERS ? "its default workers (one event loop per core)"
                        : workers + (workers == 1 ? " worker (event loop)" : " workers (event loops)"))
                + (networkPerPair ? ", each pair of sessions in a network of its own" : "");
    }

    @Override
    public List<Endpoint> open(int count, IoEventLoop loop, Endpoint.Receiver receiver) throws Exception {
        List<CompletableFuture<WebTransportClient>> pending = new ArrayList<>();
        WebTransportClientConfig config = WebTransportClientConfig.pinned(certificateHash)
                .withConnectTimeout(Duration.ofSeconds(20));
        for (int i = 0; i < count; i++) {
            int index = i;
            pending.add(WebTransportClient.connect(base.resolve(path(i, networkPerPair)), config,
                    frame -> receiver.onFrame(index, frame), loop));
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

    /** The relay's {@code GET /api/networks}: every network with its members (MACs, worker, ...), as JSON. */
    public String networksJson() {
        return relay.adminGet("/api/networks?limit=1000");
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
