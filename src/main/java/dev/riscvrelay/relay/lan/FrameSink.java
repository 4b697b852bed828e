package dev.riscvrelay.relay.lan;

import io.netty.buffer.ByteBuf;

/**
 * Where a part of the LAN hands the Ethernet frames it produces: the NAT its replies and errors (into the switch
 * as the gateway's), a gateway handler its answers, a TAP or QEMU endpoint the frames it reads, the segment
 * coalescer its super-frames. Called on the producer's thread; the sink decides whether to hand the frame over to
 * another one.
 */
@FunctionalInterface
public interface FrameSink {

    /**
     * Takes over one reference of {@code frame}: its readable bytes are one frame. Frames the gateway and the NAT
     * build have {@link NetworkConfig#frameHeadroom()} free bytes before the reader index, so a transport may
     * prepend its prefix in place.
     */
    void emit(ByteBuf frame);
}
