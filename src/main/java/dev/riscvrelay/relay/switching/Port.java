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
     */
    void send(ByteBuf frame);

    /** The largest Ethernet frame (header included, no FCS) this port's member can receive. */
    int maxFrameSize();

    /** A short human-readable name for logs, e.g. {@code "wt#3 127.0.0.1:51234"} or {@code "gateway"}. */
    String name();
}
