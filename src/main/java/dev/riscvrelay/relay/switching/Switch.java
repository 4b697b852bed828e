package dev.riscvrelay.relay.switching;

import io.netty.buffer.ByteBuf;

/**
 * The virtual LAN: a learning Ethernet switch whose ports are sessions, the gateway and connectors.
 * Owned by one event loop: every method must be called on it.
 *
 * <p>{@link LearningSwitch} is the implementation.
 */
public interface Switch {

    /** Adds a port to the LAN. */
    void attach(Port port);

    /** Removes a port and forgets every MAC learned on it. */
    void detach(Port port);

    /**
     * Forwards a frame that arrived on {@code ingress}. Takes over one reference of {@code frame}: it is passed
     * on (retained once per extra receiver) or released and counted, never returned to {@code ingress}.
     */
    void forward(Port ingress, ByteBuf frame);
}
