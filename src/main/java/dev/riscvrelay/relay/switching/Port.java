package dev.riscvrelay.relay.switching;

import io.netty.buffer.ByteBuf;

/**
 * One member of the virtual LAN: a WebTransport session, the gateway, a TAP connector.
 *
 * <p>All calls happen on the switch's event loop (the single owner of the switch's state), so implementations
 * need no locks.
 */
public interface Port {

    /**
     * Hands one Ethernet frame to this port for sending to its member. The port takes over one reference of
     * {@code frame} and must release it on every path (sent, queued, or dropped and counted). Must not block.
     *
     * <p>A flooded frame reaches each port as a duplicate of one buffer: reader and writer indices are this
     * port's own, but the bytes (headroom included) are shared with the other receivers, so a port must not
     * write into them; it copies first if it needs to. May call {@link Switch#forward} re-entrantly.
     */
    void send(ByteBuf frame);

    /** The largest Ethernet frame (header included, no FCS) this port's member can receive. */
    int maxFrameSize();

    /**
     * The largest frame this port sends without splitting it (some transports carry larger ones in pieces, at a
     * cost): senders that choose their frame size, like the NAT's TCP segments, keep to it.
     */
    default int largestUnsplitFrame() {
        return maxFrameSize();
    }

    /** A short human-readable name for logs, e.g. {@code "wt#3 127.0.0.1:51234"} or {@code "gateway"}. */
    String name();
}
