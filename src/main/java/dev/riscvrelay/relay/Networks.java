package dev.riscvrelay.relay;

import dev.riscvrelay.relay.access.AccessConfig;
import dev.riscvrelay.relay.access.AccessTokens;
import dev.riscvrelay.relay.access.Admission;
import dev.riscvrelay.relay.access.IngressGuard;
import dev.riscvrelay.relay.access.NetworkPath;
import dev.riscvrelay.relay.access.SessionGate;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.FrameTap;
import io.netty.channel.IoEventLoop;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The relay's networks and the gate in front of them: the request path names a network ({@code /net/<name>}, or the
 * default one for any other path), created on its first admitted session up to {@link AccessConfig#maxNetworks()};
 * the token must open it; and one source address may hold only so many sessions. Every admitted session gets an
 * {@link IngressGuard} over its network's DHCP leases. Owned by the event loop: no locks.
 */
final class Networks implements SessionGate, AutoCloseable {

    private final RelayConfig config;
    private final AccessConfig access;
    private final IoEventLoop loop;
    private final Counters counters;
    private final Map<String, Network> byName = new LinkedHashMap<>();
    private final Map<InetAddress, int[]> sessionsByAddress = new HashMap<>();
    private FrameTap tap;

    /** Builds the default network; on the loop. */
    Networks(RelayConfig config, IoEventLoop loop, Counters counters) {
        this.config = config;
        this.access = config.access();
        this.loop = loop;
        this.counters = counters;
        create(NetworkPath.DEFAULT_NETWORK);
    }

    @Override
    public Admission admit(String pathAndQuery, InetAddress peer) {
        NetworkPath target = NetworkPath.parse(pathAndQuery);
        if (target.network() == null) {
            return refuse(404, Counter.SESSIONS_REFUSED_NO_NETWORK);
        }
        int tokenCheck = access.tokens().check(target.network(), target.token());
        if (tokenCheck == AccessTokens.MISSING) {
            return refuse(401, Counter.SESSIONS_REFUSED_NO_TOKEN);
        }
        if (tokenCheck != AccessTokens.ADMITTED) {
            return refuse(403, Counter.SESSIONS_REFUSED_BAD_TOKEN);
        }
        int[] held = sessionsByAddress.get(peer);
        if (held != null && held[0] >= access.limits().sessionsPerAddress()) {
            return refuse(429, Counter.SESSIONS_REFUSED_PER_ADDRESS);
        }
        Network network = byName.get(target.network());
        if (network == null) {
            if (byName.size() >= access.maxNetworks()) {
                return refuse(503, Counter.SESSIONS_REFUSED_NO_NETWORK);
            }
            try {
                network = create(target.network());
            } catch (RuntimeException e) {
                return refuse(503, Counter.SESSIONS_REFUSED_NO_NETWORK);
            }
        }
        if (held == null) {
            held = new int[1];
            sessionsByAddress.put(peer, held);
        }
        held[0]++;
        int[] count = held;
        Runnable release = () -> {
            if (--count[0] == 0) {
                sessionsByAddress.remove(peer);
            }
        };
        return new Admission.Admitted(network.lan(),
                new IngressGuard(access.limits(), network.leases(), counters, System::nanoTime), release);
    }

    private Admission refuse(int status, Counter reason) {
        return new Admission.Refused(status, reason);
    }

    private Network create(String name) {
        Network network = Network.create(name, config, loop, counters);
        if (tap != null) {
            network.lan().setTap(tap);
        }
        byName.put(name, network);
        counters.increment(Counter.NETWORKS_CREATED);
        return network;
    }

    Network defaultNetwork() {
        return byName.get(NetworkPath.DEFAULT_NETWORK);
    }

    /** The network called {@code name}, or null when it has not been created. */
    Network network(String name) {
        return byName.get(name);
    }

    int count() {
        return byName.size();
    }

    void forEach(Consumer<Network> action) {
        byName.values().forEach(action);
    }

    /** Captures the frames of every network, present and future; null stops. */
    void setTap(FrameTap newTap) {
        tap = newTap;
        byName.values().forEach(n -> n.lan().setTap(newTap));
    }

    @Override
    public void close() {
        byName.values().forEach(Network::close);
        byName.clear();
    }
}
