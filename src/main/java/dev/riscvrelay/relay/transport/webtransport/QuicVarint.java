package dev.riscvrelay.relay.transport.webtransport;

import io.netty.buffer.ByteBuf;

/**
 * QUIC variable-length integers (RFC 9000 §16): the two high bits of the first byte give the length (1, 2, 4 or 8
 * bytes), the rest is the value in network byte order, so values run from 0 to 2^62-1.
 *
 * <p>Reads never throw on short input: they return {@link #INCOMPLETE}, and the caller decides whether that means
 * "wait for more bytes" (a stream) or "reject" (a datagram).
 */
public final class QuicVarint {

    /** Returned by the read methods when the buffer ends inside the varint. */
    public static final long INCOMPLETE = -1;

    /** The largest value a varint can carry. */
    public static final long MAX_VALUE = (1L << 62) - 1;

    /** The longest encoding. */
    public static final int MAX_LENGTH = 8;

    private QuicVarint() {
    }

    /** Length in bytes of the varint whose first byte is {@code firstByte}. */
    public static int lengthOfFirstByte(byte firstByte) {
        return 1 << ((firstByte & 0xff) >>> 6);
    }

    /** The shortest encoding length of {@code value}. */
    public static int encodedLength(long value) {
        if (value < 0 || value > MAX_VALUE) {
            throw new IllegalArgumentException("not a QUIC varint value: " + value);
        }
        if (value < (1L << 6)) {
            return 1;
        }
        if (value < (1L << 14)) {
            return 2;
        }
        if (value < (1L << 30)) {
            return 4;
        }
        return 8;
    }

    /**
     * The varint at absolute {@code index}, without moving indices; {@link #INCOMPLETE} when it does not end
     * before {@code limit}. Its length is {@link #lengthOfFirstByte} of the byte at {@code index}.
     */
    public static long get(ByteBuf buf, int index, int limit) {
        if (index >= limit) {
            return INCOMPLETE;
        }
        byte first = buf.getByte(index);
        int length = lengthOfFirstByte(first);
        if (limit - index < length) {
            return INCOMPLETE;
        }
        return switch (length) {
            case 1 -> first & 0x3f;
            case 2 -> buf.getShort(index) & 0x3fff;
            case 4 -> buf.getInt(index) & 0x3fffffffL;
            default -> buf.getLong(index) & 0x3fffffffffffffffL;
        };
    }

    /** Reads a varint at the reader index and advances past it; {@link #INCOMPLETE} (nothing consumed) if short. */
    public static long read(ByteBuf buf) {
        int index = buf.readerIndex();
        long value = get(buf, index, buf.writerIndex());
        if (value != INCOMPLETE) {
            buf.readerIndex(index + lengthOfFirstByte(buf.getByte(index)));
        }
        return value;
    }

    /** Appends {@code value} in its shortest encoding. */
    public static void write(ByteBuf buf, long value) {
        int length = encodedLength(value);
        buf.ensureWritable(length);
        set(buf, buf.writerIndex(), value, length);
        buf.writerIndex(buf.writerIndex() + length);
    }

    /**
     * Writes {@code value} at absolute {@code index} in exactly {@code length} bytes (1, 2, 4 or 8, at least its
     * shortest encoding), without moving indices. Used to fill a datagram's headroom.
     */
    public static void set(ByteBuf buf, int index, long value, int length) {
        if (length < encodedLength(value)) {
            throw new IllegalArgumentException(value + " does not fit in " + length + " bytes");
        }
        switch (length) {
            case 1 -> buf.setByte(index, (int) value);
            case 2 -> buf.setShort(index, (int) (0x4000 | value));
            case 4 -> buf.setInt(index, (int) (0x80000000L | value));
            case 8 -> buf.setLong(index, 0xc000000000000000L | value);
            default -> throw new IllegalArgumentException("varint length must be 1, 2, 4 or 8: " + length);
        }
    }
}
