package dev.riscvrelay.relay.transport.framed;

/**
 * The control messages of the framed protocol (the JSON after a {@code 0x00} type byte), one record per
 * {@code "type"}. IPv4 addresses are big-endian ints, MACs 48-bit longs; on the wire both are JSON arrays of byte
 * values (serde's form of {@code [u8; 4]} and {@code [u8; 6]}).
 */
sealed interface ControlMessage {

    /** Client to relay: the VM's MAC; answered by {@link Assigned} or {@link Error}. */
    record Register(long mac) implements ControlMessage {
    }

    /** Relay to client: the VM's address and its network's settings. */
    record Assigned(int ip, int gateway, int netmask, int dns) implements ControlMessage {
    }

    /** Client to relay, every 15 s: answered by {@link HeartbeatAck}. */
    record Heartbeat() implements ControlMessage {
    }

    record HeartbeatAck() implements ControlMessage {
    }

    /** Client to relay: the client leaves; its session ends. */
    record Disconnect() implements ControlMessage {
    }

    /** Relay to client: why a Register got no address. */
    record Error(String message) implements ControlMessage {
    }

    /**
     * A known type that only the relay sends, or whose body this relay does not read (Assigned, HeartbeatAck,
     * Error, PeerList from a client).
     */
    record NotForRelay(String type) implements ControlMessage {
    }
}
