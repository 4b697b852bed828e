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
