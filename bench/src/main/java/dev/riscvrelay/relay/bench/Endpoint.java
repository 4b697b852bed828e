package dev.riscvrelay.relay.bench;

import io.netty.buffer.ByteBuf;

/** One load-generator member of the LAN under test, driven on the load generator's event loop. */
public interface Endpoint {

    /** Receives each frame on the load generator's loop; takes over its one reference. */
    @FunctionalInterface
    interface Receiver {
        void onFrame(int endpointIndex, ByteBuf frame);
    }

    /** Sends one frame, taking over its reference; false when the transport refused it at once (released). */
    boolean send(ByteBuf frame);

    /** Closes and waits (bounded) until the endpoint's resources are released. */
    void close();
}
