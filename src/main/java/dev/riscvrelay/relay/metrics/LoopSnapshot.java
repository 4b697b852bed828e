package dev.riscvrelay.relay.metrics;

/**
 * The sizes of what the event loop owns (tables, queues), copied by the loop itself about once a second and
 * published through a volatile field, so exporters on other threads read them without touching loop-owned state.
 *
 * @param sessions members on the LAN through a transport: open WebTransport sessions and WebSocket members
 * @param connections open QUIC connections
 * @param macTableEntries MAC addresses the switch has learned
 * @param udpFlows open UDP NAT flows
 * @param icmpFlows open ICMP echo NAT flows
 * @param tcpConnections open TCP NAT connections (each holds a host socket)
 * @param dhcpLeases bound DHCP leases
 * @param queuedFrames frames waiting in all sessions' outbound queues
 * @param deepestQueue frames waiting in the fullest session queue
 * @param networks networks that exist now, the default one included
 * @param natSockets host sockets all NATs hold, out of the relay's host budget
 * @param natBufferBytes TCP data read from hosts and not yet acknowledged by VMs, all NATs together
 * @param wispConnections WISP connections past their upgrade
 * @param wispStreams WISP streams open or opening
 */
public record LoopSnapshot(int sessions, int connections, int macTableEntries, int udpFlows, int icmpFlows,
        int tcpConnections, int dhcpLeases, int queuedFrames, int deepestQueue, int networks, int natSockets,
        long natBufferBytes, int wispConnections, int wispStreams) {

    public static final LoopSnapshot EMPTY = new LoopSnapshot(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** Without the network and budget figures (tests of the other gauges). */
    public LoopSnapshot(int sessions, int connections, int macTableEntries, int udpFlows, int icmpFlows,
            int tcpConnections, int dhcpLeases, int queuedFrames, int deepestQueue) {
        this(sessions, connections, macTableEntries, udpFlows, icmpFlows, tcpConnections, dhcpLeases, queuedFrames,
                deepestQueue, 0, 0, 0, 0, 0);
    }
}
