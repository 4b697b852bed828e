package dev.riscvrelay.relay.forward;

import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.NatConfig;
import io.netty.channel.IoEventLoop;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The relay's open forwards, opened from the command line at start and at runtime through the admin API. A forward
 * is named by its outside side ({@code tcp:ADDR:PORT}); at most {@value #MAX_FORWARDS} at once. Control plane: open
 * and close from any thread but the loops (binding waits for one); each forward runs on the loop of its network.
 */
public final class Forwards implements AutoCloseable {

    public static final int MAX_FORWARDS = 64;
    /** Most outside clients of one forward waiting for its guest to answer ARP; more are reset. */
    public static final int MAX_WAITING = 256;
    /** Most outside clients (address and port) one UDP forward keeps a flow for; datagrams of more are dropped. */
    public static final int MAX_UDP_FLOWS = 1024;

    /** An open forward as operators see it. */
    public record Open(ForwardSpec spec, InetSocketAddress listening) {

        /** {@code tcp:ADDR:PORT}, with the port actually bound. */
        public String name() {
            return spec.protocol().label() + ":" + hostPort(listening);
        }

        /** {@code tcp 0.0.0.0:8022 -> default/10.0.2.23:22}. */
        public String describe() {
            return spec.protocol().label() + " " + hostPort(listening) + " -> " + spec.target();
        }

        private static String hostPort(InetSocketAddress address) {
            String host = address.getAddress().getHostAddress();
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
        }
    }

    private final Function<String, IoEventLoop> loopOf;
    private final ForwardTarget.Lookup networks;
    private final Counters counters;
    private final Map<String, Forward> byName = new LinkedHashMap<>();

    /** @param networks the networks by name; called on the loop only */
    public Forwards(IoEventLoop loop, ForwardTarget.Lookup networks, Counters counters) {
        this(network -> loop, networks, counters);
    }

    /**
     * @param loopOf the loop that owns each network, by name: a forward into it runs there
     * @param networks the networks by name; called on the network's loop only
     */
    public Forwards(Function<String, IoEventLoop> loopOf, ForwardTarget.Lookup networks, Counters counters) {
        this.loopOf = loopOf;
        this.networks = networks;
        this.counters = counters;
    }

    /** Opens {@code spec}: listens on its outside address. Not on the loop. */
    public synchronized Open open(ForwardSpec spec) throws ForwardException {
        if (byName.size() >= MAX_FORWARDS) {
            throw new ForwardException("cannot open forward " + spec + ": " + MAX_FORWARDS + " forwards are open");
        }
        if (spec.port() != 0 && byName.containsKey(new Open(spec, new InetSocketAddress(spec.bind(), spec.port()))
                .name())) {
            throw new ForwardException("cannot open forward " + spec + ": a forward listens there already");
        }
        IoEventLoop loop = loopOf.apply(spec.network());
        Forward forward = switch (spec.protocol()) {
            case TCP -> new TcpForward(spec, loop, networks, counters, MAX_WAITING);
            case UDP -> new UdpForward(spec, loop, networks, counters, MAX_UDP_FLOWS,
                    Duration.ofSeconds(NatConfig.DEFAULT_UDP_IDLE_SECONDS));
        };
        Open open = new Open(spec, forward.localAddress());
        byName.put(open.name(), forward);
        return open;
    }

    /** Closes the forward named {@code name} ({@code tcp:ADDR:PORT}); false when there is none. */
    public synchronized boolean close(String name) {
        Forward forward = byName.remove(name);
        if (forward == null) {
            return false;
        }
        forward.close();
        return true;
    }

    public synchronized List<Open> list() {
        List<Open> all = new ArrayList<>();
        byName.values().forEach(f -> all.add(new Open(f.spec(), f.localAddress())));
        return all;
    }

    @Override
    public synchronized void close() {
        byName.values().forEach(Forward::close);
        byName.clear();
    }
}
