package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.metrics.Counter;
import io.netty.channel.IoEventLoop;
import java.util.List;
import java.util.Map;

/**
 * A forwarder under test: the relay or a baseline. Each runs its own event loop thread(s) and a switch whose
 * counters the load generator checks its own counts against.
 */
public interface Fixture extends AutoCloseable {

    /** Short name for tables: "relay", "QUIC datagrams", "plain UDP". */
    String name();

    /** One sentence: what this forwarder does per frame. */
    String description();

    /**
     * Opens {@code count} endpoints whose I/O runs on {@code loop}; endpoint {@code i} hands received frames to
     * {@code receiver} with index {@code i}. Bounded: fails after a timeout.
     */
    List<Endpoint> open(int count, IoEventLoop loop, Endpoint.Receiver receiver) throws Exception;

    /** The counters of the forwarder's switch, now. */
    Map<Counter, Long> counters();

    /** The CPU time the forwarder has used so far. */
    CpuTime cpu();

    @Override
    void close();
}
