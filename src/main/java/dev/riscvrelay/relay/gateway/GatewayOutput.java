package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;

/** What a gateway handler may do besides reading the packet: build frames, send them, count. */
public interface GatewayOutput {

    /**
     * A pooled direct buffer for one outgoing frame of exactly {@code frameLength} bytes: its readable bytes are
     * the frame (contents undefined, the caller writes all of them at absolute indexes from
     * {@code readerIndex()}), with the configured headroom free before them. The caller owns the reference until it
     * passes it to {@link #emit}.
     */
    ByteBuf allocateFrame(int frameLength);

    /** Puts a frame from {@link #allocateFrame} on the LAN; takes over its reference. */
    void emit(ByteBuf frame);

    NetworkConfig config();

    Counters counters();
}
