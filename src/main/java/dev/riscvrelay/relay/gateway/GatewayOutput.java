package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.EthernetFrame;
import io.netty.buffer.ByteBuf;

/**
 * What a gateway handler may do besides reading the packet: build frames, send them (it is the handler's
 * {@link FrameSink}), count.
 */
public interface GatewayOutput extends FrameSink {

    /**
     * A pooled direct buffer for one outgoing frame of exactly {@code frameLength} bytes: its readable bytes are
     * the frame (contents undefined, the caller writes all of them at absolute indexes from
     * {@code readerIndex()}), with the configured headroom free before them. The caller owns the reference until it
     * passes it to {@link #emit}.
     */
    ByteBuf allocateFrame(int frameLength);

    /** {@link #allocateFrame}, its Ethernet header written: from the gateway to {@code destinationMac}. */
    default ByteBuf allocateFrame(long destinationMac, int etherType, int frameLength) {
        ByteBuf frame = allocateFrame(frameLength);
        EthernetFrame.writeHeader(frame, frame.readerIndex(), destinationMac, config().gatewayMac(), etherType);
        return frame;
    }

    /** Puts a frame from {@link #allocateFrame} on the LAN as the gateway's; takes over its reference. */
    @Override
    void emit(ByteBuf frame);

    NetworkConfig config();

    Counters counters();
}
