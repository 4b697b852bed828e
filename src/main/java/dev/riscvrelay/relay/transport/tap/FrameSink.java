package dev.riscvrelay.relay.transport.tap;

import io.netty.buffer.ByteBuf;

/** Where a connector hands the frames it receives: takes over one reference of {@code frame}. */
@FunctionalInterface
public interface FrameSink {
    void accept(ByteBuf frame);
}
