package dev.riscvrelay.relay.nat;

import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * What every NAT flow (a UDP conversation, an ICMP echo conversation, a TCP connection) carries for its
 * {@link FlowSet}: its table key, the VM it belongs to, and when it was last used. A flow is also the handler of
 * the host socket that carries it, hence the Netty superclass. Owned by one event loop.
 */
public abstract class NatFlow extends ChannelInboundHandlerAdapter {

    /** The flow's key, packed by the protocol into two {@code long}s (see {@link FlowKey}). */
    public final long keyHigh;
    public final long keyLow;
    /** The VM's MAC: replies are addressed to it and per-VM limits count by it. */
    public final long vmMac;
    /** The next flow whose key folds to the same {@code long} in its {@link FlowSet}, or null (almost always). */
    NatFlow sameFoldedKey;
    /** How long the flow may stay unused before {@link FlowSet#expireIdle} ends it. */
    public final long idleTimeoutNanos;
    protected long lastActivityNanos;

    protected NatFlow(long keyHigh, long keyLow, long vmMac, long idleTimeoutNanos, long now) {
        this.keyHigh = keyHigh;
        this.keyLow = keyLow;
        this.vmMac = vmMac;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.lastActivityNanos = now;
    }

    /** Marks the flow used at {@code now}: it is idle from here. */
    public final void touch(long now) {
        lastActivityNanos = now;
    }

    final boolean idleAt(long now) {
        return now - lastActivityNanos >= idleTimeoutNanos;
    }
}
