package dev.riscvrelay.relay;

import dev.riscvrelay.relay.access.AccessConfig;
import dev.riscvrelay.relay.nat.EgressRules;
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
 * @param macTableSize most MAC addresses the switch remembers
 * @param macAging how long an unused MAC entry lives
 * @param idleTimeout how long a silent QUIC connection lives
 * @param lanMtu the IP MTU of the LAN: what DHCP tells VMs and the largest packet the gateway sends them
 * @param dnsResolvers where the DNS forwarder at 10.0.2.3 sends queries; empty: the host's /etc/resolv.conf
 * @param egress the operator's --allow and --deny rules over the default egress policy
 * @param web the WebSocket transport and the demo web server
 * @param access networks, tokens and per-session limits
 * @param congestionControl QUIC's congestion controller for what the relay sends (BBR unless told otherwise)
 */
public record RelayConfig(
        InetAddress bind,
        int port,
        int maxSessions,
        int portQueueFrames,
        int macTableSize,
        Duration macAging,
        Duration idleTimeout,
        int lanMtu,
        List<InetSocketAddress> dnsResolvers,
        EgressRules egress,
        WebOptions web,
        AccessConfig access,
        QuicCongestionControlAlgorithm congestionControl) {

    public static final int DEFAULT_MAX_SESSIONS = 1024;
    public static final int DEFAULT_PORT_QUEUE = 1024;
    public static final int DEFAULT_MAC_TABLE_SIZE = 4096;
    public static final int DEFAULT_MAC_AGING_SECONDS = 300;
    public static final int DEFAULT_IDLE_TIMEOUT_SECONDS = 30;
    /**
     * Chromium carries at most 1199 bytes in one WebTransport datagram: one Ethernet frame of 1199 bytes, an IP packet
     * of 1185. Every browser VM on the LAN must be able to receive what the gateway sends.
     */
    public static final int DEFAULT_LAN_MTU = 1185;

    public RelayConfig {
        dnsResolvers = List.copyOf(dnsResolvers);
    }

    /** The defaults on a given address and port. */
    public static RelayConfig defaults(InetAddress bind, int port) {
        return new RelayConfig(bind, port, DEFAULT_MAX_SESSIONS, DEFAULT_PORT_QUEUE, DEFAULT_MAC_TABLE_SIZE,
                Duration.ofSeconds(DEFAULT_MAC_AGING_SECONDS), Duration.ofSeconds(DEFAULT_IDLE_TIMEOUT_SECONDS),
                DEFAULT_LAN_MTU, List.of(), EgressRules.NONE, WebOptions.defaults(), AccessConfig.defaults(),
                WebTransportServerConfig.DEFAULT_CONGESTION_CONTROL);
    }

    public RelayConfig withMaxSessions(int sessions) {
        return new RelayConfig(bind, port, sessions, portQueueFrames, macTableSize, macAging, idleTimeout, lanMtu,
                dnsResolvers, egress, web, access, congestionControl);
    }

    public RelayConfig withEgress(EgressRules rules) {
        return new RelayConfig(bind, port, maxSessions, portQueueFrames, macTableSize, macAging, idleTimeout, lanMtu,
                dnsResolvers, rules, web, access, congestionControl);
    }

    public RelayConfig withDnsResolvers(List<InetSocketAddress> resolvers) {
        return new RelayConfig(bind, port, maxSessions, portQueueFrames, macTableSize, macAging, idleTimeout, lanMtu,
                resolvers, egress, web, access, congestionControl);
    }

    public RelayConfig withCongestionControl(QuicCongestionControlAlgorithm algorithm) {
        return new RelayConfig(bind, port, maxSessions, portQueueFrames, macTableSize, macAging, idleTimeout, lanMtu,
                dnsResolvers, egress, web, access, algorithm);
    }

    public RelayConfig withAccess(AccessConfig newAccess) {
        return new RelayConfig(bind, port, maxSessions, portQueueFrames, macTableSize, macAging, idleTimeout, lanMtu,
                dnsResolvers, egress, web, newAccess, congestionControl);
    }
}
