package dev.riscvrelay.relay.nat.icmp;

import dev.riscvrelay.relay.nat.DatagramFlow;
import dev.riscvrelay.relay.nat.FlowSet;
import io.netty.buffer.ByteBuf;

/** One VM's echo conversation (VM address, VM echo identifier, destination) and its connected ping socket. */
final class IcmpFlow extends DatagramFlow {

    final int vmAddress;
    final int vmIdentifier;
    final int destinationAddress;

    private final IcmpNat nat;

    IcmpFlow(IcmpNat nat, FlowSet<IcmpFlow> flows, long keyHigh, long keyLow, long vmMac, int vmAddress,
            int vmIdentifier, int destinationAddress, long idleTimeoutNanos, long now) {
        super(flows, keyHigh, keyLow, vmMac, idleTimeoutNanos, now);
        this.nat = nat;
        this.vmAddress = vmAddress;
        this.vmIdentifier = vmIdentifier;
        this.destinationAddress = destinationAddress;
    }

    @Override
    protected void onReply(ByteBuf message) {
        nat.onReply(this, message);
    }

    @Override
    protected void onSocketError(Throwable cause) {
        nat.onSocketError(this, cause);
    }
}
