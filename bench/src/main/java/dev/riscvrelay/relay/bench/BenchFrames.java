package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.transport.webtransport.HttpDatagram;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The load generator's Ethernet frames: a real header (locally administered MACs, the IEEE local-experimental
 * EtherType 0x88B5) and a payload that carries the flow, a sequence number and the intended send time, so the
 * receiver can count gaps and measure latency without any state shared with the sender.
 *
 * <pre>
 *   0  destination MAC (6)   6  source MAC (6)   12  EtherType (2)
 *   14 sequence (8)          22 intended send time, System.nanoTime (8)   30 flow = sender index (4)
 * </pre>
 */
public final class BenchFrames {

    /** IEEE 802 local experimental EtherType 1: measured frames. */
    public static final int TYPE_MEASURED = 0x88B5;
    /** IEEE 802 local experimental EtherType 2: broadcast hellos that make the switch learn every MAC. */
    public static final int TYPE_HELLO = 0x88B6;
    public static final int MIN_SIZE = 34;

    private static final int SEQUENCE_OFFSET = 14;
    private static final int STAMP_OFFSET = 22;
    private static final int FLOW_OFFSET = 30;

    private BenchFrames() {
    }

    /** The MAC of endpoint {@code index}: 02:00:00:xx:xx:xx, unicast and locally administered. */
    public static long macOf(int index) {
        return 0x0200_0000_0000L | (index + 1);
    }

    /**
     * A frame of {@code size} bytes in a pooled direct buffer with {@link HttpDatagram#HEADROOM} free bytes in
     * front, so a WebTransport client writes its datagram prefix in place instead of copying.
     */
    public static ByteBuf measured(ByteBufAllocator alloc, int size, int from, int to, long sequence, long stampNanos) {
        return build(alloc, size, macOf(to), from, TYPE_MEASURED, sequence, stampNanos);
    }

    public static ByteBuf hello(ByteBufAllocator alloc, int from) {
        return build(alloc, MIN_SIZE, MacAddress.BROADCAST, from, TYPE_HELLO, 0, 0);
    }

    private static ByteBuf build(ByteBufAllocator alloc, int size, long destination, int from, int type,
            long sequence, long stampNanos) {
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("a bench frame has at least " + MIN_SIZE + " bytes: " + size);
        }
        ByteBuf buf = alloc.directBuffer(HttpDatagram.HEADROOM + size);
        int start = HttpDatagram.HEADROOM;
        EthernetFrame.writeHeader(buf, start, destination, macOf(from), type);
        buf.setLong(start + SEQUENCE_OFFSET, sequence);
        buf.setLong(start + STAMP_OFFSET, stampNanos);
        buf.setInt(start + FLOW_OFFSET, from);
        buf.setZero(start + MIN_SIZE, size - MIN_SIZE);
        buf.setIndex(start, start + size);
        return buf;
    }

    public static int type(ByteBuf frame) {
        return frame.getUnsignedShort(frame.readerIndex() + 12);
    }

    public static long destination(ByteBuf frame) {
        return MacAddress.read(frame, frame.readerIndex());
    }

    public static long sequence(ByteBuf frame) {
        return frame.getLong(frame.readerIndex() + SEQUENCE_OFFSET);
    }

    public static long stampNanos(ByteBuf frame) {
        return frame.getLong(frame.readerIndex() + STAMP_OFFSET);
    }

    public static int flow(ByteBuf frame) {
        return frame.getInt(frame.readerIndex() + FLOW_OFFSET);
    }
}
