package dev.riscvrelay.relay.nat.tcp;

import io.netty.buffer.ByteBuf;

/**
 * What a {@link TcpEndpoint} asks of the host side of its connection: the socket to the destination, on the same
 * event loop. The endpoint calls these from within its own event methods, never from elsewhere.
 */
interface TcpHost {

    /** Writes VM data to the host in order; takes over the reference. Flushed at the end of the loop's turn. */
    void write(ByteBuf data);

    /** The VM sent FIN: shut the socket's output once everything written before has reached the kernel. */
    void shutdownOutput();

    /** Bytes written and not yet taken by the host socket: they shrink the window offered to the VM. */
    long pendingWriteBytes();

    /** Whether the socket is read (it is not while the VM has not acknowledged a full send buffer). */
    boolean reading();

    void reading(boolean on);

    /** Asks for {@link TcpEndpoint#onTurnEnd} once the loop's current work is done (one ACK for many segments). */
    void requestTurnEnd();

    /** Asks for {@link TcpEndpoint#onResume} after the loop's other pending work (a large window sent in bursts). */
    void resumeLater();

    /** The endpoint is freed: close the socket, with a reset if {@code reset}, else after the data written. */
    void closed(boolean reset);
}
