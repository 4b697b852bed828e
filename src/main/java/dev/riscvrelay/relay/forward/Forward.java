package dev.riscvrelay.relay.forward;

import java.net.InetSocketAddress;

/** One open forward: its spec, where it listens, and how it stops. */
sealed interface Forward permits TcpForward, UdpForward {

    ForwardSpec spec();

    /** The outside address actually bound (the port chosen when the spec asked for 0). */
    InetSocketAddress localAddress();

    /** Stops listening and ends the forward's connections or flows. On the loop or from any thread. */
    void close();
}
