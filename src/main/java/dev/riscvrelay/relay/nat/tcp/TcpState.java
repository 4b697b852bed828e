package dev.riscvrelay.relay.nat.tcp;

/**
 * Where a VM's connection is in its life (RFC 9293 section 3.3.2), seen from the NAT, which plays the server the
 * VM connected to. The extra first state, {@link #CONNECTING}, holds the VM's SYN while the host socket connects:
 * the VM gets its SYN-ACK only once the host accepted. A connection forwarded from outside
 * starts the other way, in {@link #SYN_SENT}: the relay dials the VM.
 */
enum TcpState {
    /** A forwarded connection: our SYN went to the VM (the active open); waiting for its SYN-ACK. */
    SYN_SENT,
    /** SYN from the VM received; the host connect is in progress; nothing sent to the VM yet. */
    CONNECTING,
    /** The host connected and the SYN-ACK went to the VM; waiting for its ACK. */
    SYN_RECEIVED,
    /** Data both ways. */
    ESTABLISHED,
    /** The VM sent FIN (host output shut down); the host may still send. */
    CLOSE_WAIT,
    /** The VM closed first, the host has finished too: our FIN sent, waiting for its ACK. */
    LAST_ACK,
    /** The host closed first: our FIN sent, not yet acknowledged; the VM may still send. */
    FIN_WAIT_1,
    /** Our FIN acknowledged; the VM may still send until its FIN. */
    FIN_WAIT_2,
    /** Both FINs crossed (simultaneous close): waiting for the ACK of ours. */
    CLOSING,
    /** Both sides done; lingering to re-acknowledge a retransmitted FIN from the VM. */
    TIME_WAIT,
    /** Freed: removed from the table, socket closed, buffers released. */
    CLOSED;

    /** Whether the VM has not sent its FIN yet, so data from it is still welcome. */
    boolean acceptsVmData() {
        return this == ESTABLISHED || this == FIN_WAIT_1 || this == FIN_WAIT_2;
    }

    /** Whether segments toward the VM may carry data or FIN (first transmissions or retransmissions). */
    boolean sends() {
        return this == ESTABLISHED || this == CLOSE_WAIT || this == FIN_WAIT_1 || this == CLOSING
                || this == LAST_ACK;
    }
}
