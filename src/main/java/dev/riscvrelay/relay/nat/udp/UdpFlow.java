package dev.riscvrelay.relay.nat.udp;

import dev.riscvrelay.relay.nat.DatagramFlow;
import dev.riscvrelay.relay.nat.FlowSet;
import dev.riscvrelay.relay.nat.VmFrames;
import dev.riscvrelay.relay.wire.Ipv4Address;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * One VM conversation (VM address and port to one destination address and port) and the connected host socket
 * that carries it. Its handler runs on the NAT's event loop and hands everything to {@link UdpNat}.
 */
final class UdpFlow extends DatagramFlow {

    final int vmAddress;
    final int vmPort;
    final int destinationAddress;
    final int destinationPort;
    /** The IP header plus 8 bytes of the VM's latest datagram, quoted in an ICMP port unreachable (RFC 792). */
    final ByteBuf lastQuote = Unpooled.wrappedBuffer(new byte[VmFrames.MAX_QUOTE]);
    int lastQuoteLength;

    private final UdpNat nat;

    UdpFlow(UdpNat nat, FlowSet<UdpFlow> flows, long keyHigh, long keyLow, long vmMac, int vmAddress, int vmPort,
            int destinationAddress, int destinationPort, long idleTimeoutNanos, long now) {
        super(flows, keyHigh, keyLow, vmMac, idleTimeoutNanos, now);
        this.nat = nat;
        this.vmAddress = vmAddress;
        this.vmPort = vmPort;
        this.destinationAddress = destinationAddress;
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
        return "udp " + Ipv4Address.format(vmAddress) + ":" + vmPort + " -> "
                + Ipv4Address.format(destinationAddress) + ":" + destinationPort;
    }
}
