package dev.riscvrelay.relay.nat;

import io.netty.buffer.ByteBuf;

/**
 * Where the NAT sends the Ethernet frames it builds for VMs (replies, ICMP errors). The gateway routes them into the
 * switch as if they came from its own port. Called on the NAT's event loop only.
 */
@FunctionalInterface
public interface FrameSink {

    /**
     * Takes over one reference of {@code frame}: a complete Ethernet frame between its reader and writer index.
     * Frames are built with {@link dev.riscvrelay.relay.lan.NetworkConfig#frameHeadroom()} free bytes before the reader index, so a transport
     * may prepend a prefix in place.
     */
    void emit(ByteBuf frame);
}
