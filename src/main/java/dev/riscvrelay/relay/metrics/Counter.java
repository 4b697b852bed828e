package dev.riscvrelay.relay.metrics;

/**
 * Every event and drop reason the relay counts, one place for all of them. A counter costs one increment on the
 * thread that owns it; exporters read {@link Counters} snapshots.
 */
public enum Counter {
    // Sessions (transport)
    SESSIONS_OPENED("sessions opened"),
    SESSIONS_CLOSED("sessions closed"),
    SESSIONS_REFUSED("session requests refused"),

    // Frames entering and leaving the switch
    FRAMES_IN("frames received from ports"),
    BYTES_IN("bytes received from ports"),
    FRAMES_OUT("frames handed to ports"),
    BYTES_OUT("bytes handed to ports"),

    // Drops, by reason
    DROP_RUNT("frames shorter than an Ethernet header"),
    DROP_TOO_LARGE("frames larger than the receiving port can take"),
    DROP_QUEUE_FULL("frames dropped because a port's outbound queue was full"),
    DROP_BAD_DATAGRAM("datagrams without a valid quarter-stream-id prefix"),
    DROP_UNKNOWN_SESSION("datagrams for a stream that is no session"),
    DROP_MAC_TABLE_FULL("source MACs not learned because the MAC table was full"),

    // NAT (UDP, ICMP echo) and the egress policy
    NAT_UDP_FLOWS_OPENED("UDP NAT flows opened (one host socket each)"),
    NAT_UDP_FLOWS_EXPIRED("UDP NAT flows closed after their idle timeout"),
    NAT_UDP_DATAGRAMS_OUT("UDP datagrams sent from VMs to the outside"),
    NAT_UDP_DATAGRAMS_IN("UDP datagrams from the outside delivered to VMs"),
    NAT_UDP_PORT_UNREACHABLE("ICMP port unreachable sent to VMs for a closed outside port"),
    NAT_ICMP_FLOWS_OPENED("ICMP echo flows opened (one ping socket each)"),
    NAT_ICMP_FLOWS_EXPIRED("ICMP echo flows closed after their idle timeout"),
    NAT_ICMP_ECHO_OUT("ICMP echo requests sent from VMs to the outside"),
    NAT_ICMP_ECHO_IN("ICMP echo replies delivered to VMs"),
    NAT_EGRESS_DENIED("packets to a destination the egress policy denies (answered admin-prohibited)"),
    DROP_NAT_FRAGMENT("IPv4 fragments to the outside: fragmented UDP and ICMP are not supported"),
    DROP_NAT_BAD_PACKET("packets to the outside with bad lengths, checksum or ports"),
    DROP_NAT_UNSUPPORTED("packets to the outside of a protocol or ICMP type the NAT does not carry"),
    DROP_NAT_UDP_VM_LIMIT("new UDP flows refused: the VM holds its maximum"),
    DROP_NAT_UDP_TABLE_FULL("new UDP flows refused: the UDP flow table is full"),
    DROP_NAT_ICMP_VM_LIMIT("new ICMP echo flows refused: the VM holds its maximum"),
    DROP_NAT_ICMP_TABLE_FULL("new ICMP echo flows refused: the ICMP flow table is full"),
    DROP_NAT_ICMP_DISABLED("echo requests to the outside dropped: ping sockets are not allowed on this host"),
    DROP_NAT_REPLY_TOO_LARGE("datagrams from the outside too large for one frame to the VM"),
    DROP_NAT_SOCKET_BUSY("packets dropped because a flow's host socket could not take more"),
    DROP_NAT_SOCKET_ERROR("host socket errors on NAT flows (open, connect, send, receive)");

    private final String description;

    Counter(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
