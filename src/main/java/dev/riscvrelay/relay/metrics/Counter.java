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
    DROP_MAC_TABLE_FULL("source MACs not learned because the MAC table was full");

    private final String description;

    Counter(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
