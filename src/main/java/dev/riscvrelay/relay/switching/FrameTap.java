package dev.riscvrelay.relay.switching;

import io.netty.buffer.ByteBuf;

/**
 * Sees every frame the switch forwards, once, after it passed the switch's checks and before it is delivered (a
 * capture, e.g. to pcap). Called on the switch's event loop: it must not block, must not keep or release
 * {@code frame} (copy what it needs), and must not change its indices.
 */
@FunctionalInterface
public interface FrameTap {

    void onFrame(ByteBuf frame);
}
