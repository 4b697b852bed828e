package dev.riscvrelay.relay.nat;

/**
 * How a transport flow (VM address and port to destination address and port) is packed into {@code long}s: no key
 * object per packet. Each protocol keeps its own {@link FlowSet} for both address families, so the protocol is not
 * part of the key (ICMP echo uses the high half and puts the echo identifier in the low half).
 *
 * <p>IPv4: the two addresses in the high half, the ports in the low half, and zero in the two IPv6 words. IPv6: the
 * VM's interface identifier in the high half (a VM's address is always in the LAN's /64, so its low half names it),
 * the ports with {@link #IPV6} set in the low half, and the destination's two halves in the IPv6 words; the flag
 * keeps the families apart whatever the addresses. The set folds the words into one {@code long} for its table and
 * tells the rare flows that share a fold apart.
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

    /** Set in the low half of every IPv6 flow's key. */
    public static final long IPV6 = 1L << 63;

    /** The low half of an IPv6 flow's key: VM port and destination port (or the echo identifier), flagged. */
    public static long low6(int vmPort, int destinationPort) {
        return IPV6 | low(vmPort, destinationPort);
    }
}
