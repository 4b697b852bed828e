package dev.riscvrelay.relay.nat.udp;

import dev.riscvrelay.relay.nat.DatagramFlow;
import dev.riscvrelay.relay.nat.FlowAddresses;
import dev.riscvrelay.relay.nat.FlowSet;
import dev.riscvrelay.relay.nat.VmFrames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * One VM conversation (VM address and port to one destination address and port, IPv4 or IPv6) and the connected
 * host socket that carries it. Its handler runs on the NAT's event loop and hands everything to {@link UdpNat}.
 */
final class UdpFlow extends DatagramFlow {

    final FlowAddresses addresses;
    final int vmPort;
    final int destinationPort;
    /**
     * The IP header plus 8 bytes of the VM's latest datagram, quoted in an ICMP port unreachable (RFC 792; for IPv6
     * the fixed header and 8 bytes, enough for the VM to find its socket).
     */
    final ByteBuf lastQuote = Unpooled.wrappedBuffer(new byte[Math.max(VmFrames.MAX_QUOTE, VmFrames.IPV6_QUOTE)]);
    int lastQuoteLength;

    private final UdpNat nat;

    UdpFlow(UdpNat nat, FlowSet<UdpFlow> flows, long keyHigh, long keyLow, long key6High, long key6Low, long vmMac,
            FlowAddresses addresses, int vmPort, int destinationPort, long idleTimeoutNanos, long now) {
        super(flows, keyHigh, keyLow, key6High, key6Low, vmMac, idleTimeoutNanos, now);
        this.nat = nat;
        this.addresses = addresses;
        this.vmPort = vmPort;
        this.destinationPort = destinationPort;
    }

    @Override
    protected void onReply(ByteBuf data) {
        nat.onReply(this, data);
    }

    @Override
    protected void onSocketError(Throwable cause) {
        nat.onSocketError(this, cause);
    }

    @Override
    public String toString() {
        return "udp " + addresses.vmText() + ":" + vmPort + " -> " + addresses.remoteText() + ":" + destinationPort;
    }
}
