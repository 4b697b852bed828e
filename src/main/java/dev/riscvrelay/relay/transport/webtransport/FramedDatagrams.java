package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.transport.framed.FramedTypes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.function.Consumer;

/**
 * HTTP datagrams for sessions that speak the framed protocol: the Quarter Stream ID prefix, then a type byte, then
 * the payload. A data frame gets both in front of it in place, like a raw frame gets its prefix; a frame whose
 * headroom is one byte short (it came from a raw session, whose prefix left exactly its own length free) is moved
 * up within its buffer's spare room instead of copied to a new one. Only a shared frame (a flood) or one without
 * spare room is copied, counted as {@code DATAGRAMS_COPIED}.
 */
final class FramedDatagrams {

    private FramedDatagrams() {
    }

    /** The datagram for {@code frame} (whose reference it takes), {@code 0x01} + frame behind the prefix. */
    static ByteBuf data(ByteBuf frame, long quarterStreamId, int prefixLength, ByteBufAllocator alloc,
            Counters counters) {
        int needed = prefixLength + 1;
        int missing = needed - frame.readerIndex();
        if (missing > 0 && HttpDatagram.hasHeadroom(frame, 0) && frame.maxFastWritableBytes() >= missing) {
            moveUp(frame, missing);
        }
        if (HttpDatagram.hasHeadroom(frame, needed)) {
            int typeAt = frame.readerIndex() - 1;
            frame.setByte(typeAt, FramedTypes.DATA);
            frame.readerIndex(typeAt);
            return HttpDatagram.prefixInPlace(frame, quarterStreamId, prefixLength);
        }
        counters.increment(Counter.DATAGRAMS_COPIED);
        int length = frame.readableBytes();
        ByteBuf datagram = alloc.directBuffer(needed + length);
        try {
            QuicVarint.set(datagram, 0, quarterStreamId, prefixLength);
            datagram.setByte(prefixLength, FramedTypes.DATA);
            datagram.writerIndex(needed);
            datagram.writeBytes(frame, frame.readerIndex(), length);
        } finally {
            frame.release();
        }
        return datagram;
    }

    /** Chunk payloads, as upstream's client and relay cut them (leaving room for QUIC's own overhead). */
    static final int CHUNK_PAYLOAD = 900;
    /** {@code 0x02}, chunk id (u16, big-endian), index, count. */
    static final int CHUNK_HEADER = 5;
    /** The chunk count is one byte. */
    static final int MAX_CHUNKS = 255;

    /**
     * Sends {@code frame} (whose reference it takes) as {@code 0x02} chunks of at most {@link #CHUNK_PAYLOAD} bytes
     * that each fit a datagram of {@code maxDatagramLength}, for a frame larger than one datagram carries. New
     * buffers, one per chunk: only for frames that a raw session could not take at all.
     *
     * @return false when the path is too narrow for the frame to fit {@link #MAX_CHUNKS} chunks (nothing sent)
     */
    static boolean chunks(ByteBuf frame, int chunkId, long quarterStreamId, int prefixLength, int maxDatagramLength,
            ByteBufAllocator alloc, Consumer<ByteBuf> out) {
        try {
            int payload = Math.min(CHUNK_PAYLOAD, maxDatagramLength - prefixLength - CHUNK_HEADER);
            int length = frame.readableBytes();
            if (payload <= 0 || (length + payload - 1) / payload > MAX_CHUNKS) {
                return false;
            }
            int count = (length + payload - 1) / payload;
            for (int index = 0; index < count; index++) {
                int from = index * payload;
                int size = Math.min(payload, length - from);
                ByteBuf chunk = alloc.directBuffer(prefixLength + CHUNK_HEADER + size);
                QuicVarint.set(chunk, 0, quarterStreamId, prefixLength);
                chunk.writerIndex(prefixLength);
                chunk.writeByte(FramedTypes.CHUNK).writeShort(chunkId).writeByte(index).writeByte(count);
                chunk.writeBytes(frame, frame.readerIndex() + from, size);
                out.accept(chunk);
            }
            return true;
        } finally {
            frame.release();
        }
    }

    /** The datagram of one control message: prefix, {@code 0x00}, the JSON. */
    static ByteBuf control(byte[] json, long quarterStreamId, int prefixLength, ByteBufAllocator alloc) {
        ByteBuf datagram = alloc.directBuffer(prefixLength + 1 + json.length);
        QuicVarint.set(datagram, 0, quarterStreamId, prefixLength);
        datagram.setByte(prefixLength, FramedTypes.CONTROL);
        datagram.writerIndex(prefixLength + 1);
        return datagram.writeBytes(json);
    }

    /**
     * Moves the readable bytes of {@code frame} {@code by} bytes towards its end, within the room the buffer has
     * without reallocating ({@link ByteBuf#maxFastWritableBytes()}, checked by the caller). Copies from the end
     * backwards, eight bytes at a time, so the overlapping ranges never overwrite bytes still to be read.
     */
    static void moveUp(ByteBuf frame, int by) {
        int from = frame.readerIndex();
        int length = frame.readableBytes();
        frame.ensureWritable(by);
        int left = length;
        while (left >= Long.BYTES) {
            left -= Long.BYTES;
            frame.setLong(from + by + left, frame.getLong(from + left));
        }
        while (left > 0) {
            left--;
            frame.setByte(from + by + left, frame.getByte(from + left));
        }
        frame.writerIndex(frame.writerIndex() + by);
        frame.readerIndex(from + by);
    }
}
