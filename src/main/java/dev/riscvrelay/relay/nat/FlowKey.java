package dev.riscvrelay.relay.nat;

/**
 * How a transport flow (VM address and port to destination address and port) is packed into two {@code long}s:
 * no key object per packet. Each protocol keeps its own {@link FlowSet}, so the protocol is not part of the key
 * (ICMP echo uses the high half and puts the echo identifier in the low half). The 96 bits do not fit one
 * {@code long}; the set folds them into one for its table and tells the rare flows that share a fold apart.
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
