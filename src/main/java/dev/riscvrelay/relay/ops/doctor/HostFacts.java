package dev.riscvrelay.relay.ops.doctor;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/** What the checks read from the host; {@link SystemHostFacts} reads the real one. */
public interface HostFacts {

    /** A sysctl's value as {@code /proc/sys} shows it (trimmed), or empty when it does not exist. */
    Optional<String> sysctl(String name);

    /** This process's group IDs, the primary and the supplementary ones. */
    Set<Long> groups();

    /** The soft limit of open files (RLIMIT_NOFILE), or -1 when unlimited or unknown. */
    long openFileLimit();

    /** Whether UDP sockets here can send segmented bursts (GSO: epoll and a kernel that has UDP_SEGMENT). */
    boolean udpGso();

    /** Whether UDP sockets here can receive coalesced bursts (GRO: epoll and a kernel that has UDP_GRO). */
    boolean udpGro();

    /** Whether UDP {@code port} on {@code bind} can be bound now (and TCP too, where WebSocket listens). */
    boolean portFree(InetAddress bind, int port);

    /** Whether a relay's admin server answers {@code /healthz} with 200 at {@code admin}. */
    boolean relayAnswers(InetSocketAddress admin);

    /** The interface and MTU of the IPv4 default route, or empty when there is none. */
    Optional<Route> defaultRoute();

    Instant now();

    /**
     * A route's way out.
     *
     * @param device the interface
     * @param mtu the route's MTU: its own {@code mtu} attribute, else the interface's
     */
    record Route(String device, int mtu) {
    }
}
