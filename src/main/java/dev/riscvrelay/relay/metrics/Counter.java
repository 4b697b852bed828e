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
    REQUESTS_REJECTED("HTTP/3 requests answered with an error status"),
    CONNECTIONS_REFUSED("QUIC connections closed because the server had too many"),

    // Frames entering and leaving the switch
    FRAMES_IN("frames received from ports"),
    BYTES_IN("bytes received from ports"),
    FRAMES_OUT("frames handed to ports"),
    BYTES_OUT("bytes handed to ports"),
    FRAMES_FLOODED("frames flooded to every port (broadcast, multicast or unknown destination)"),

    // Gateway: answers, validation drops (by reason) and frames it does not handle
    GATEWAY_ARP_REPLIES("ARP replies sent by the gateway"),
    GATEWAY_ECHO_REPLIES("ICMP echo replies sent by the gateway"),
    GATEWAY_UNHANDLED("frames addressed to the gateway that nothing handles yet (protocol, port or type)"),
    GATEWAY_NOT_ADDRESSED("unicast frames flooded to the gateway for another MAC (not an error)"),
    DROP_MALFORMED("frames for the gateway whose headers are malformed (truncated, bad lengths, bad ARP format)"),
    DROP_BAD_CHECKSUM("packets for the gateway with a bad IPv4 header or ICMP checksum"),
    DROP_IP_FRAGMENT("IPv4 fragments for the gateway, which does not reassemble"),

    // Drops, by reason
    DROP_RUNT("frames shorter than an Ethernet header"),
    DROP_TOO_LARGE("frames larger than the receiving port can take"),
    DROP_QUEUE_FULL("frames dropped because a port's outbound queue was full"),
    DROP_BAD_DATAGRAM("datagrams without a valid quarter-stream-id prefix"),
    DROP_UNKNOWN_SESSION("datagrams for a stream that is no session"),
    DROP_BAD_CAPSULE("sessions closed because their peer sent a malformed capsule"),
    DROP_PORT_CLOSED("frames for a port that had already closed"),
    DROP_DATAGRAM_SEND_FAILED("datagrams the QUIC stack refused to send"),
    DATAGRAMS_COPIED("outgoing datagrams copied because the frame had no free headroom"),
    DROP_MAC_TABLE_FULL("source MACs not learned because the MAC table was full"),
    DROP_BAD_SOURCE_MAC("frames whose source MAC is multicast, broadcast or all-zero"),
    DROP_SAME_PORT("frames filtered because their destination was learned on the port they came from"),
    DROP_NOT_ATTACHED("frames forwarded from a port that is not attached to the switch"),
    DROP_FORWARD_TOO_DEEP("frames forwarded from inside a port's send nested too deeply (a forwarding loop)"),
    PORT_SEND_FAILED("exceptions thrown by a port's send (a bug in that port; the others still get the frame)"),

    // MAC learning
    MAC_LEARNED("MAC addresses learned"),
    MAC_MOVED("MAC addresses that showed up on another port"),
    MAC_AGED_OUT("MAC addresses forgotten after the ageing time"),

    // WebSocket transport
    WEBSOCKET_OPENED("WebSocket connections that joined the LAN"),
    WEBSOCKET_CLOSED("WebSocket connections that left the LAN"),
    WEBSOCKET_REFUSED("WebSocket connections refused because the server had too many"),
    WEBSOCKET_PROTOCOL_CLOSES("WebSocket connections closed for a protocol violation (oversized frame, bad opcode)"),
    DROP_WEBSOCKET_TEXT("WebSocket text messages (only binary messages carry Ethernet frames)"),
    DROP_WEBSOCKET_FRAGMENTED("WebSocket fragments (one binary message must be one whole frame)"),
    HTTP_NOT_FOUND("plain HTTP requests answered with 404, 405 or 426"),

    // Connectors (TAP, QEMU)
    DROP_TAP_TOO_LARGE("frames read from a TAP device or QEMU socket that exceed the connector's frame limit"),
    DROP_TAP_WRITE_FAILED("frames the TAP device or QEMU socket refused (link down, buffer full)"),
    DROP_QEMU_BAD_FRAME("QEMU socket messages that are no Ethernet frame (runt or bad length prefix)"),
    DROP_QEMU_UNKNOWN_SENDER("datagrams on a QEMU socket from an address other than QEMU's");

    private final String description;

    Counter(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
