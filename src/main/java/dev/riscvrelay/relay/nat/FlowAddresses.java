package dev.riscvrelay.relay.nat;

import dev.riscvrelay.relay.wire.Checksums;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv6Address;
import java.net.InetAddress;

/**
 * The two IP ends of one NAT flow, of either address family: the VM's address and the remote one it talks to (the
 * destination it dialled, or the gateway for a forward). Frames to the VM go from the remote address to the VM's;
 * {@link VmFrames} writes their IP header and the pseudo-header sum here covers their checksums. One per flow, made
 * when the flow opens; immutable.
 */
public final class FlowAddresses {

    private final boolean ipv6;
    private final long vmHigh;
    private final long vmLow;
    private final long remoteHigh;
    private final long remoteLow;

    private FlowAddresses(boolean ipv6, long vmHigh, long vmLow, long remoteHigh, long remoteLow) {
        this.ipv6 = ipv6;
        this.vmHigh = vmHigh;
        this.vmLow = vmLow;
        this.remoteHigh = remoteHigh;
        this.remoteLow = remoteLow;
    }

    public static FlowAddresses ipv4(int vm, int remote) {
        return new FlowAddresses(false, 0, vm & 0xFFFF_FFFFL, 0, remote & 0xFFFF_FFFFL);
    }

    public static FlowAddresses ipv6(long vmHigh, long vmLow, long remoteHigh, long remoteLow) {
        return new FlowAddresses(true, vmHigh, vmLow, remoteHigh, remoteLow);
    }

    public boolean ipv6() {
        return ipv6;
    }

    /** The VM's IPv4 address (IPv4 flows). */
    public int vmIpv4() {
        return (int) vmLow;
    }

    /** The remote IPv4 address (IPv4 flows). */
    public int remoteIpv4() {
        return (int) remoteLow;
    }

    public long vmHigh() {
        return vmHigh;
    }

    public long vmLow() {
        return vmLow;
    }

    public long remoteHigh() {
        return remoteHigh;
    }

    public long remoteLow() {
        return remoteLow;
    }

    /**
     * The sum of the pseudo-header of a packet from the remote address to the VM carrying {@code length} bytes of
     * {@code protocol} (its IPv6 next header; TCP and UDP have the same number in both families).
     */
    public long pseudoHeaderSumToVm(int protocol, int length) {
        return ipv6 ? Checksums.pseudoHeaderSum6(remoteHigh, remoteLow, vmHigh, vmLow, protocol, length)
                : Checksums.pseudoHeaderSum((int) remoteLow, (int) vmLow, protocol, length);
    }

    /** The remote address for a host socket (no name lookup). */
    public InetAddress remoteInetAddress() {
        return ipv6 ? Ipv6Address.toInetAddress(remoteHigh, remoteLow) : Ipv4Address.toInetAddress((int) remoteLow);
    }

    /** The VM's address as text, IPv6 in brackets (for a {@code host:port}). */
    public String vmText() {
        return ipv6 ? "[" + Ipv6Address.format(vmHigh, vmLow) + "]" : Ipv4Address.format((int) vmLow);
    }

    public String remoteText() {
        return ipv6 ? "[" + Ipv6Address.format(remoteHigh, remoteLow) + "]" : Ipv4Address.format((int) remoteLow);
    }
}
