package dev.riscvrelay.relay.transport.webtransport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * HTTP/3 datagrams (RFC 9297 §2.1): a QUIC DATAGRAM frame's payload is a Quarter Stream ID varint (the CONNECT
 * stream's id divided by 4) followed by the HTTP datagram payload, here one Ethernet frame.
 *
 * <p>Outgoing datagrams are built without copying where possible: a frame whose buffer the caller owns alone and
 * that has a few bytes free before its reader index gets the prefix written into that headroom, so the QUIC
 * channel receives one direct buffer per datagram and copies nothing itself.
 */
public final class HttpDatagram {

    /**
     * QUIC packets one GSO send carries: 40 of 1500 bytes fit the 64 KiB of one UDP send. On loopback a receiver
     * with UDP GRO takes the burst whole; elsewhere the kernel splits it.
     */
    public static final int GSO_SEGMENTS = 40;

    /** Returned by {@link #quarterStreamId} for a datagram without a valid prefix. */
    public static final long BAD_PREFIX = -1;

    /** RFC 9297 §2.1: a Quarter Stream ID above 2^60-1 cannot name a client-initiated bidirectional stream. */
    public static final long MAX_QUARTER_STREAM_ID = (1L << 60) - 1;

    /** Headroom a frame builder reserves so any session's prefix fits in front of the frame. */
    public static final int HEADROOM = QuicVarint.MAX_LENGTH;

    private HttpDatagram() {
    }

    /** The Quarter Stream ID at the reader index of {@code datagram}, or {@link #BAD_PREFIX}. Moves nothing. */
    public static long quarterStreamId(ByteBuf datagram) {
        long id = QuicVarint.get(datagram, datagram.readerIndex(), datagram.writerIndex());
        return id > MAX_QUARTER_STREAM_ID ? BAD_PREFIX : id;
    }

    /** Length of the prefix at the reader index of a datagram whose {@link #quarterStreamId} was valid. */
    public static int prefixLength(ByteBuf datagram) {
        return QuicVarint.lengthOfFirstByte(datagram.getByte(datagram.readerIndex()));
    }

    /** The Quarter Stream ID of a CONNECT stream (RFC 9297 §2.1). */
    public static long quarterStreamIdOf(long connectStreamId) {
        if (connectStreamId < 0 || (connectStreamId & 3) != 0) {
            throw new IllegalArgumentException("not a client-initiated bidirectional stream: " + connectStreamId);
        }
        return connectStreamId >>> 2;
    }

    /**
     * True when the prefix can be written in front of {@code frame} in place: the caller holds its only reference,
     * it is one contiguous direct buffer, and at least {@code prefixLength} bytes precede its reader index.
     */
    public static boolean hasHeadroom(ByteBuf frame, int prefixLength) {
        return frame.readerIndex() >= prefixLength && frame.refCnt() == 1 && frame.isDirect()
                && frame.nioBufferCount() == 1;
    }

    /**
     * Writes the prefix into the headroom of {@code frame} (check {@link #hasHeadroom} first) and returns the same
     * buffer, now the whole datagram.
     */
    public static ByteBuf prefixInPlace(ByteBuf frame, long quarterStreamId, int prefixLength) {
        int start = frame.readerIndex() - prefixLength;
        QuicVarint.set(frame, start, quarterStreamId, prefixLength);
        frame.readerIndex(start);
        return frame;
    }

    /**
     * Copies {@code frame} behind the prefix into a new direct buffer and releases {@code frame}. For frames without
     * headroom or shared with other receivers (a flood), where writing in front of them would corrupt the others.
     */
    public static ByteBuf copyWithPrefix(ByteBuf frame, long quarterStreamId, int prefixLength,
            ByteBufAllocator alloc) {
        int length = frame.readableBytes();
        ByteBuf datagram = alloc.directBuffer(prefixLength + length);
        try {
            QuicVarint.set(datagram, 0, quarterStreamId, prefixLength);
            datagram.writerIndex(prefixLength);
            datagram.writeBytes(frame, frame.readerIndex(), length);
        } finally {
            frame.release();
        }
        return datagram;
    }

    /** The datagram for {@code frame} (whose reference it takes), in place when possible, else a copy. */
    public static ByteBuf encode(ByteBuf frame, long quarterStreamId, int prefixLength, ByteBufAllocator alloc) {
        return hasHeadroom(frame, prefixLength)
                ? prefixInPlace(frame, quarterStreamId, prefixLength)
                : copyWithPrefix(frame, quarterStreamId, prefixLength, alloc);
    }
}
