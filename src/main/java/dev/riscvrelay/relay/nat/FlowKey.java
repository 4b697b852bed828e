package dev.riscvrelay.relay.nat;

/**
 * How a transport flow (VM address and port to destination address and port) is packed into the two {@code long}s
 * of a {@link FlowTable} key: no key object per packet. Each protocol keeps its own table, so the protocol is not
 * part of the key (ICMP echo uses the high half and puts the echo identifier in the low half).
 */
public final class FlowKey {

    private FlowKey() {
    }

    /** The key's high half: VM address and destination address. */
    public static long high(int vmAddress, int destinationAddress) {
        return (vmAddress & 0xFFFF_FFFFL) << 32 | (destinationAddress & 0xFFFF_FFFFL);
    }

    /** The key's low half: VM port and destination port. */
    public static long low(int vmPort, int destinationPort) {
        return (long) vmPort << 16 | destinationPort;
    }
}
