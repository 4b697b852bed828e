package dev.riscvrelay.relay.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocatorMetric;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The relay's metrics in Micrometer, scraped in the Prometheus text format. Nothing here runs per frame: each
 * {@link Counter} is a {@link FunctionCounter} that reads {@link Counters} when scraped, and the gauges read the
 * {@link LoopSnapshot} the event loop publishes.
 *
 * <p>Names: {@code FRAMES_IN} becomes {@code relay_frames_in_total}; every {@code DROP_*} counter is one series of
 * {@code relay_drops_total} with its reason as a tag ({@code reason="queue_full"}), so one query sums all drops.
 */
public final class RelayMetrics implements AutoCloseable {

    public static final String DROPS = "relay.drops";
    static final String DROPS_HELP = "frames (or messages) the relay dropped, by reason";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** Where the loop publishes its snapshots. */
    private final Supplier<LoopSnapshot> published;
    /**
     * The snapshot this scrape shows, taken once at its start: each gauge reading the published one would let a
     * scrape that straddles a publication mix two snapshots (sessions 0 from the older, 2 MACs from the newer).
     */
    private volatile LoopSnapshot scraped = LoopSnapshot.EMPTY;

    public RelayMetrics(Counters counters, Supplier<LoopSnapshot> snapshot, Supplier<Double> certificateSecondsLeft) {
        this(counters, snapshot, certificateSecondsLeft, WorkerStats.NONE);
    }

    /** With a figure per worker: its CPU, its connections, and the frames it handed to and from other LANs' loops. */
    public RelayMetrics(Counters counters, Supplier<LoopSnapshot> published, Supplier<Double> certificateSecondsLeft,
            WorkerStats workers) {
        this.published = published;
        Supplier<LoopSnapshot> snapshot = () -> scraped;
        for (Counter counter : Counter.values()) {
            if (counter.isDrop()) {
                // One family, one help text (Prometheus keeps the first it is given); each reason is a tag.
                FunctionCounter.builder(DROPS, counters, c -> c.get(counter))
                        .tag("reason", counter.dropReason())
                        .description(DROPS_HELP).register(registry);
            } else {
                FunctionCounter.builder(meterName(counter), counters, c -> c.get(counter))
                        .description(counter.description()).register(registry);
            }
        }
        gauge("relay.sessions", "members on the LAN through a transport (WebTransport sessions and WebSockets)",
                snapshot, LoopSnapshot::sessions);
        gauge("relay.quic.connections", "open QUIC connections", snapshot, LoopSnapshot::connections);
        gauge("relay.mac.table.entries", "MAC addresses the switch has learned", snapshot,
                LoopSnapshot::macTableEntries);
        Gauge.builder("relay.nat.flows", snapshot, s -> s.get().udpFlows()).tag("protocol", "udp")
                .strongReference(true).description("open NAT flows").register(registry);
        Gauge.builder("relay.nat.flows", snapshot, s -> s.get().icmpFlows()).tag("protocol", "icmp")
                .strongReference(true).description("open NAT flows").register(registry);
        Gauge.builder("relay.nat.flows", snapshot, s -> s.get().tcpConnections()).tag("protocol", "tcp")
                .strongReference(true).description("open NAT flows").register(registry);
        gauge("relay.dhcp.leases", "bound DHCP leases", snapshot, LoopSnapshot::dhcpLeases);
        gauge("relay.port.queue.frames", "frames waiting in all sessions' outbound queues", snapshot,
                LoopSnapshot::queuedFrames);
        gauge("relay.port.queue.deepest.frames", "frames waiting in the fullest session queue", snapshot,
                LoopSnapshot::deepestQueue);
        gauge("relay.networks.open", "networks that exist now, the default one included", snapshot,
                LoopSnapshot::networks);
        gauge("relay.nat.host.sockets", "host sockets all NATs hold, out of the relay's budget (--max-nat-sockets)",
                snapshot, LoopSnapshot::natSockets);
        Gauge.builder("relay.nat.buffer.bytes", snapshot, s -> s.get().natBufferBytes()).strongReference(true)
                .baseUnit("bytes").description("TCP data held for VMs by all NATs, out of the relay's budget"
                        + " (--nat-buffer-memory)").register(registry);
        gauge("relay.wisp.connections", "WISP connections open now", snapshot, LoopSnapshot::wispConnections);
        gauge("relay.wisp.streams", "WISP streams open or opening now (each holds or will hold a host socket)",
                snapshot, LoopSnapshot::wispStreams);
        Gauge.builder("relay.buffer.pool.direct", PooledByteBufAllocator.DEFAULT.metric(),
                PooledByteBufAllocatorMetric::usedDirectMemory).baseUnit("bytes").strongReference(true)
                .description("direct memory the frame buffer pool holds (in use and cached)").register(registry);
        Gauge.builder("relay.certificate.expiry.seconds", certificateSecondsLeft, Supplier::get)
                .strongReference(true).description("seconds until the current TLS certificate expires").register(registry);
        registerWorkers(workers);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** One series per worker, tagged {@code worker="N"}: enough to see one worker saturated while others idle. */
    private void registerWorkers(WorkerStats workers) {
        String handOffHelp = "frames handed between the worker's sessions and the workers that run their networks";
        for (int i = 0; i < workers.workers(); i++) {
            int worker = i;
            String tag = Integer.toString(worker);
            FunctionCounter.builder("relay.worker.cpu.seconds", workers, w -> w.cpuSeconds(worker))
                    .tag("worker", tag).baseUnit("seconds")
                    .description("CPU time of the worker's event loop thread (100% of a core: 1 per second)")
                    .register(registry);
            Gauge.builder("relay.worker.quic.connections", workers, w -> w.connections(worker)).tag("worker", tag)
                    .strongReference(true).description("QUIC connections the worker owns").register(registry);
            FunctionCounter.builder("relay.worker.quic.handoff.packets", workers, w -> w.packetsHandedOver(worker))
                    .tag("worker", tag)
                    .description("QUIC packets the worker's socket read for another worker's connection and handed"
                            + " to it (a client whose address changed)")
                    .register(registry);
            FunctionCounter.builder("relay.worker.handoff.frames", workers, w -> w.framesToLan(worker))
                    .tag("worker", tag).tag("direction", "to_lan")
                    .description(handOffHelp)
                    .register(registry);
            FunctionCounter.builder("relay.worker.handoff.frames", workers, w -> w.framesFromLan(worker))
                    .tag("worker", tag).tag("direction", "from_lan")
                    .description(handOffHelp)
                    .register(registry);
        }
    }

    /** {@code NAT_UDP_FLOWS_OPENED} → {@code relay.nat.udp.flows.opened} (Prometheus adds {@code _total}). */
    static String meterName(Counter counter) {
        return "relay." + counter.name().toLowerCase(Locale.ROOT).replace('_', '.');
    }

    private void gauge(String name, String description, Supplier<LoopSnapshot> snapshot,
            ToDoubleFunction<LoopSnapshot> value) {
        // Micrometer holds a gauge's state weakly unless told otherwise: a supplier nothing else references would be
        // collected, and the gauge would read NaN from then on.
        Gauge.builder(name, snapshot, s -> value.applyAsDouble(s.get())).strongReference(true)
                .description(description).register(registry);
    }

    /** Every metric in the Prometheus text exposition format (version 0.0.4), the loop's gauges from one snapshot. */
    public synchronized String scrape() {
        scraped = published.get();
        return registry.scrape();
    }

    @Override
    public void close() {
        registry.close();
    }
}
