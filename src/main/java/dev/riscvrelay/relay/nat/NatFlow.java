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
    /** An IPv6 flow's destination address (its two halves); zero for IPv4 flows. */
    public final long key6High;
    public final long key6Low;
    /** The VM's MAC: replies are addressed to it and per-VM limits count by it. */
    public final long vmMac;
    /** The next flow whose key folds to the same {@code long} in its {@link FlowSet}, or null (almost always). */
    NatFlow sameFoldedKey;
    /** How long the flow may stay unused before {@link FlowSet#expireIdle} ends it. */
    public final long idleTimeoutNanos;
    protected long lastActivityNanos;

    protected NatFlow(long keyHigh, long keyLow, long vmMac, long idleTimeoutNanos, long now) {
        this(keyHigh, keyLow, 0, 0, vmMac, idleTimeoutNanos, now);
    }

    /** A flow whose key has IPv6 words too ({@link FlowKey}). */
    protected NatFlow(long keyHigh, long keyLow, long key6High, long key6Low, long vmMac, long idleTimeoutNanos,
            long now) {
        this.keyHigh = keyHigh;
        this.keyLow = keyLow;
        this.key6High = key6High;
        this.key6Low = key6Low;
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
