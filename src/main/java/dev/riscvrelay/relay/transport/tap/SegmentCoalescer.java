package dev.riscvrelay.relay.transport.tap;

import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.Checksums;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Receive offload in user space (what GRO does in a NIC driver): consecutive TCP segments of one flow that arrive
 * in one burst are joined into one super-frame and written to the TAP once, behind a virtio-net header that tells
 * the kernel their segment size. The host's TCP stack then takes them as one packet, as it would from a NIC with
 * GRO: one write(2) and one trip through IP and TCP for up to 64 KiB instead of one per segment.
 *
 * <p>Rules (Linux's tcp4_gro_receive, simplified): IPv4 without options or fragments; only ACK and PSH set; the
 * same Ethernet header, addresses, TOS, TTL, DF, ports, acknowledgment, window and TCP options; each segment
 * continues the previous one's sequence and carries at most the first one's payload. A shorter segment or one with
 * PSH ends the super-frame. Everything else is written as it came, in order.
 *
 * <p>A super-frame leaves when the next frame does not continue it, when it is full, or at {@link #flush()}: the
 * caller flushes at the end of every burst, so a segment never waits for a later one. One thread offers and
 * flushes; {@link #close()} may come from another.
 */
public final class SegmentCoalescer implements AutoCloseable {

    private static final int HEADER = TapDevice.VNET_HEADER;
    private static final int ETHERNET = TapDevice.ETHERNET_HEADER;
    private static final int IP = ETHERNET;
    private static final int IP_HEADER = 20;
    private static final int TCP = IP + IP_HEADER;
    private static final int MAX_IP_LENGTH = 65535;
    /** As GRO: at most 64 segments in one super-frame. */
    static final int MAX_SEGMENTS = 64;
    private static final int FLAG_PSH = TcpPacket.FLAG_PSH;
    private static final int FLAG_ACK = TcpPacket.FLAG_ACK;
    private static final ValueLayout.OfShort LITTLE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Where frames and super-frames go, each as {@link #withHeader} whose readable bytes are the virtio-net header
     * and the frame. The sink takes over one reference of that one reusable buffer and is done with it on return.
     */
    private final FrameSink sink;
    private final Counters counters;
    // Freed by the GC, not by close(): a frame still on its way in after close() must not write to freed memory.
    private final MemorySegment out = Arena.ofAuto().allocate(HEADER + ETHERNET + MAX_IP_LENGTH, 8);
    /** The same memory as {@link #out}, frame first (index 0 = the Ethernet header), for Netty's copies. */
    private final ByteBuf frame = Unpooled.wrappedBuffer(out.asSlice(HEADER).asByteBuffer()).clear();
    /** The same memory again, header first: what the sink gets. */
    private final ByteBuf withHeader = Unpooled.wrappedBuffer(out.asByteBuffer()).clear();

    private volatile boolean closed;

    // The super-frame being built; used == 0 when there is none.
    private int used;
    private int segments;
    private int segmentSize;
    private int tcpHeader;
    private int nextSeq;
    private int lastFlags;

    public SegmentCoalescer(FrameSink sink, Counters counters) {
        this.sink = sink;
        this.counters = counters;
    }

    /** Writes (now or at the next {@link #flush}) the readable bytes of {@code in}; does not release it. */
    public void offer(ByteBuf in) {
        if (closed) {
            return;
        }
        int at = in.readerIndex();
        int length = in.readableBytes();
        int payload = segmentPayload(in, at, length);
        if (payload <= 0) {
            flush();
            writeAsIs(in, at, length);
            return;
        }
        if (used == 0 || !continues(in, at, payload)) {
            flush();
            start(in, at, payload);
        } else {
            frame.setBytes(used, in, at + TCP + tcpHeader, payload);
            used += payload;
            nextSeq += payload;
            segments++;
            lastFlags = in.getUnsignedByte(at + TCP + 13);
        }
        if ((lastFlags & FLAG_PSH) != 0 || payload < segmentSize || segments == MAX_SEGMENTS) {
            flush();
        }
    }

    /** Writes the super-frame being built, if any. */
    public void flush() {
        if (used == 0 || closed) {
            return;
        }
        clearHeader();
        if (segments > 1) {
            int ipLength = used - ETHERNET;
            frame.setShort(IP + 2, ipLength);
            frame.setShort(IP + 10, 0);
            frame.setShort(IP + 10, Checksums.internetChecksum(frame, IP, IP_HEADER));
            frame.setByte(TCP + 13, lastFlags);
            // The checksum is the kernel's to finish (NEEDS_CSUM): it holds the pseudo-header sum, not inverted.
            frame.setShort(TCP + 16, Checksums.fold(Checksums.pseudoHeaderSum(frame.getInt(IP + 12),
                    frame.getInt(IP + 16), Ipv4Packet.PROTOCOL_TCP, ipLength - IP_HEADER)));
            out.set(ValueLayout.JAVA_BYTE, TapDevice.VNET_FLAGS, TapDevice.VNET_F_NEEDS_CSUM);
            out.set(ValueLayout.JAVA_BYTE, TapDevice.VNET_GSO_TYPE, TapDevice.VNET_GSO_TCPV4);
            setLittleShort(TapDevice.VNET_HDR_LEN, TCP + tcpHeader);
            setLittleShort(TapDevice.VNET_GSO_SIZE, segmentSize);
            setLittleShort(TapDevice.VNET_CSUM_START, TCP);
            setLittleShort(TapDevice.VNET_CSUM_OFFSET, 16);
            counters.add(Counter.TAP_SEGMENTS_COALESCED, segments - 1);
        }
        int length = HEADER + used;
        used = 0;
        emit(length);
    }

    /** The TCP payload length if this frame may join a super-frame, else 0 or less. */
    private static int segmentPayload(ByteBuf in, int at, int length) {
        if (length < TCP + 20 || in.getUnsignedShort(at + 12) != 0x0800 || in.getUnsignedByte(at + IP) != 0x45
                || in.getUnsignedByte(at + IP + 9) != Ipv4Packet.PROTOCOL_TCP
                || (in.getUnsignedShort(at + IP + 6) & 0x3fff) != 0) {
            return 0;
        }
        int ipLength = in.getUnsignedShort(at + IP + 2);
        int tcpHeader = (in.getUnsignedByte(at + TCP + 12) >>> 4) * 4;
        int flags = in.getUnsignedByte(at + TCP + 13);
        if (ipLength > length - ETHERNET || tcpHeader < 20 || IP_HEADER + tcpHeader > ipLength
                || (flags & ~(FLAG_ACK | FLAG_PSH)) != 0 || (flags & FLAG_ACK) == 0) {
            return 0;
        }
        return ipLength - IP_HEADER - tcpHeader;
    }

    private boolean continues(ByteBuf in, int at, int payload) {
        int inTcpHeader = (in.getUnsignedByte(at + TCP + 12) >>> 4) * 4;
        return inTcpHeader == tcpHeader
                && payload <= segmentSize
                && used - ETHERNET + payload <= MAX_IP_LENGTH
                && in.getInt(at + TCP + 4) == nextSeq
                // Ethernet header (14 bytes): destination, source, type
                && in.getLong(at) == frame.getLong(0) && in.getInt(at + 8) == frame.getInt(8)
                && in.getShort(at + 12) == frame.getShort(12)
                // TOS; DF (fragment fields are 0 otherwise); TTL and protocol; source and destination address
                && in.getByte(at + IP + 1) == frame.getByte(IP + 1)
                && in.getShort(at + IP + 6) == frame.getShort(IP + 6)
                && in.getShort(at + IP + 8) == frame.getShort(IP + 8)
                && in.getLong(at + IP + 12) == frame.getLong(IP + 12)
                // ports; acknowledgment; window; options
                && in.getInt(at + TCP) == frame.getInt(TCP)
                && in.getInt(at + TCP + 8) == frame.getInt(TCP + 8)
                && in.getShort(at + TCP + 14) == frame.getShort(TCP + 14)
                && sameOptions(in, at);
    }

    private boolean sameOptions(ByteBuf in, int at) {
        for (int i = 20; i < tcpHeader; i++) {
            if (in.getByte(at + TCP + i) != frame.getByte(TCP + i)) {
                return false;
            }
        }
        return true;
    }

    private void start(ByteBuf in, int at, int payload) {
        int ipLength = in.getUnsignedShort(at + IP + 2);
        frame.setBytes(0, in, at, ETHERNET + ipLength);
        used = ETHERNET + ipLength;
        segments = 1;
        segmentSize = payload;
        tcpHeader = (in.getUnsignedByte(at + TCP + 12) >>> 4) * 4;
        nextSeq = in.getInt(at + TCP + 4) + payload;
        lastFlags = in.getUnsignedByte(at + TCP + 13);
    }

    private void writeAsIs(ByteBuf in, int at, int length) {
        if (length > ETHERNET + MAX_IP_LENGTH) {
            counters.increment(Counter.DROP_TAP_WRITE_FAILED);
            return;
        }
        clearHeader();
        frame.setBytes(0, in, at, length);
        emit(HEADER + length);
    }

    private void emit(int length) {
        sink.emit(withHeader.retain().setIndex(0, length));
    }

    private void clearHeader() {
        out.set(ValueLayout.JAVA_LONG, 0, 0L);
        out.set(ValueLayout.JAVA_SHORT, 8, (short) 0);
    }

    private void setLittleShort(int offset, int value) {
        out.set(LITTLE_SHORT, offset, (short) value);
    }

    /** Drops what is being built; later frames are ignored. Any thread. */
    @Override
    public void close() {
        closed = true;
    }
}
