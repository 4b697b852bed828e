package dev.riscvrelay.relay.nat.icmp;

import dev.riscvrelay.relay.nat.DatagramFlow;
import dev.riscvrelay.relay.nat.FlowAddresses;
import dev.riscvrelay.relay.nat.FlowSet;
import io.netty.buffer.ByteBuf;

/**
 * One VM's echo conversation (VM address, VM echo identifier, destination; IPv4 or IPv6) and its connected ping
 * socket.
 */
final class IcmpFlow extends DatagramFlow {

    final FlowAddresses addresses;
    final int vmIdentifier;

    private final IcmpNat nat;

    IcmpFlow(IcmpNat nat, FlowSet<IcmpFlow> flows, long keyHigh, long keyLow, long key6High, long key6Low,
            long vmMac, FlowAddresses addresses, int vmIdentifier, long idleTimeoutNanos, long now) {
        super(flows, keyHigh, keyLow, key6High, key6Low, vmMac, idleTimeoutNanos, now);
        this.nat = nat;
        this.addresses = addresses;
        this.vmIdentifier = vmIdentifier;
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
