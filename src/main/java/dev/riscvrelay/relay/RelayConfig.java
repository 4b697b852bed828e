package dev.riscvrelay.relay;

import dev.riscvrelay.relay.access.AccessConfig;
import dev.riscvrelay.relay.forward.ForwardSpec;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.nat.EgressRules;
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.transport.webtransport.WebTransportServerConfig;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * Everything the relay is configured with, made once from the command line.
 *
 * @param bind address the UDP socket listens on
 * @param port UDP port (0 picks a free one)
 * @param maxSessions most WebTransport sessions at once; more are refused and counted
 * @param portQueueFrames bound of each session's outbound queue
 * @param network every network's addressing, MTU, leases and MAC table (each network gets the same)
 * @param idleTimeout how long a silent QUIC connection lives
 * @param dnsResolvers where the DNS forwarder at 10.0.2.3 sends queries; empty: the host's /etc/resolv.conf
 * @param egress the operator's --allow and --deny rules over the default egress policy
 * @param web the WebSocket transport and the demo web server
 * @param access networks, tokens and per-session limits
 * @param congestionControl QUIC's congestion controller for what the relay sends (BBR unless told otherwise)
 * @param hostBudget the host sockets and TCP buffer memory all networks' NATs share, and each one's part
 * @param forwards the port forwards opened at start ({@code --forward})
 * @param workers event loops with a UDP socket each on the relay's port ({@code --workers}); the first also runs
 *     every network
 */
public record RelayConfig(
        InetAddress bind,
        int port,
        int maxSessions,
        int portQueueFrames,
        NetworkConfig network,
        Duration idleTimeout,
        List<InetSocketAddress> dnsResolvers,
        EgressRules egress,
        WebOptions web,
        AccessConfig access,
        QuicCongestionControlAlgorithm congestionControl,
        HostBudget.Limits hostBudget,
        List<ForwardSpec> forwards,
        int workers) {

    public static final int DEFAULT_MAX_SESSIONS = 1024;
    public static final int DEFAULT_PORT_QUEUE = 1024;
    public static final int DEFAULT_IDLE_TIMEOUT_SECONDS = 30;

    /** The most workers (event loops with a UDP socket each) a relay runs. */
    public static final int MAX_WORKERS = 256;

    public RelayConfig {
        if (workers < 1 || workers > MAX_WORKERS) {
            throw new IllegalArgumentException("workers must be 1.." + MAX_WORKERS + ", not " + workers);
        }
        dnsResolvers = List.copyOf(dnsResolvers);
        forwards = List.copyOf(forwards);
    }

    /** The defaults on a given address and port. */
    public static RelayConfig defaults(InetAddress bind, int port) {
        return new RelayConfig(bind, port, DEFAULT_MAX_SESSIONS, DEFAULT_PORT_QUEUE, NetworkConfig.defaults(),
                Duration.ofSeconds(DEFAULT_IDLE_TIMEOUT_SECONDS), List.of(), EgressRules.NONE, WebOptions.defaults(),
                AccessConfig.defaults(), WebTransportServerConfig.DEFAULT_CONGESTION_CONTROL,
                HostBudgets.forThisHost(DEFAULT_MAX_SESSIONS), List.of(), defaultWorkers());
    }

    /** The default number of workers on this machine: see {@link #defaultWorkers(int)}. */
    public static int defaultWorkers() {
        return defaultWorkers(Runtime.getRuntime().availableProcessors());
    }

    /**
     * A worker per core but one, and at least one: the kernel's UDP and TCP processing, the web loop and the JVM's
     * own threads need a core too. A worker added costs a hand-off per frame that crosses to the networks' loop,
     * which on 2 cores shared with other busy work cost more than it gave (BENCHMARKS.md, the workers part), so
     * there the default is one loop for everything.
     */
    public static int defaultWorkers(int cores) {
        return Math.clamp(cores - 1, 1, MAX_WORKERS);
    }

    public RelayConfig withWorkers(int count) {
        return new RelayConfig(bind, port, maxSessions, portQueueFrames, network, idleTimeout, dnsResolvers, egress,
                web, access, congestionControl, hostBudget, forwards, count);
    }

    public RelayConfig withMaxSessions(int sessions) {
        return new RelayConfig(bind, port, sessions, portQueueFrames, network, idleTimeout, dnsResolvers, egress, web,
                access, congestionControl, hostBudget, forwards, workers);
    }

    public RelayConfig withEgress(EgressRules rules) {
        return new RelayConfig(bind, port, maxSessions, portQueueFrames, network, idleTimeout, dnsResolvers, rules,
                web, access, congestionControl, hostBudget, forwards, workers);
    }

    public RelayConfig withDnsResolvers(List<InetSocketAddress> resolvers) {
        return new RelayConfig(bind, port, maxSessions, portQueueFrames, network, idleTimeout, resolvers, egress,
                web, access, congestionControl, hostBudget, forwards, workers);
    }

    public RelayConfig withCongestionControl(QuicCongestionControlAlgorithm algorithm) {
        return new RelayConfig(bind, port, maxSessions, portQueueFrames, network, idleTimeout, dnsResolvers, egress,
                web, access, algorithm, hostBudget, forwards, workers);
    }

    public RelayConfig withAccess(AccessConfig newAccess) {
        return new RelayConfig(bind, port, maxSessions, portQueueFrames, network, idleTimeout, dnsResolvers, egress,
                web, newAccess, congestionControl, hostBudget, forwards, workers);
    }

    public RelayConfig withHostBudget(HostBudget.Limits limits) {
        return new RelayConfig(bind, port, maxSessions, portQueueFrames, network, idleTimeout, dnsResolvers, egress,
                web, access, congestionControl, limits, forwards, workers);
    }

    public RelayConfig withForwards(List<ForwardSpec> newForwards) {
        return new RelayConfig(bind, port, maxSessions, portQueueFrames, network, idleTimeout, dnsResolvers, egress,
                web, access, congestionControl, hostBudget, newForwards, workers);
    }
}
