package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;

/**
 * A reusable view of an IPv6 packet (RFC 8200) inside a {@link ByteBuf}. {@link #wrap} checks the version and that
 * the payload length fits the bytes present; the accessors then read straight from the buffer. The payload ends at
 * the payload length, so Ethernet padding after it is never mistaken for data. Extension headers are not walked:
 * {@link #nextHeader()} is the fixed header's field, and a caller that wants an upper layer checks it is one.
 */
public final class Ipv6Packet {

    public static final int HEADER_LENGTH = 40;

    public static final int NEXT_HEADER_HOP_BY_HOP = 0;
    public static final int NEXT_HEADER_TCP = 6;
    public static final int NEXT_HEADER_UDP = 17;
    public static final int NEXT_HEADER_ROUTING = 43;
    public static final int NEXT_HEADER_FRAGMENT = 44;
    public static final int NEXT_HEADER_ICMPV6 = 58;
    public static final int NEXT_HEADER_NONE = 59;
    public static final int NEXT_HEADER_DESTINATION_OPTIONS = 60;

    private static final int VERSION_CLASS_FLOW = 0;
    private static final int PAYLOAD_LENGTH = 4;
    private static final int NEXT_HEADER = 6;
    private static final int HOP_LIMIT = 7;
    private static final int SOURCE = 8;
    private static final int DESTINATION = 24;

    private ByteBuf buf;
    private int offset;
    private int payloadLength;

    /**
     * Views the IPv6 packet at absolute {@code offset}, where {@code length} bytes are present (an Ethernet payload,
     * possibly padded).
     */
    public ParseResult wrap(ByteBuf buf, int offset, int length) {
        this.buf = buf;
        this.offset = offset;
        this.payloadLength = 0;
        if (length < HEADER_LENGTH) {
            return ParseResult.TRUNCATED;
        }
        if ((buf.getUnsignedByte(offset + VERSION_CLASS_FLOW) >>> 4) != 6) {
            return ParseResult.UNSUPPORTED_VERSION;
        }
        int payload = buf.getUnsignedShort(offset + PAYLOAD_LENGTH);
        if (payload > length - HEADER_LENGTH) {
            return ParseResult.BAD_TOTAL_LENGTH;
        }
        this.payloadLength = payload;
        return ParseResult.OK;
    }

    public ByteBuf buffer() {
        return buf;
    }

    public int offset() {
        return offset;
    }

    /** The header's next-header field: the upper-layer protocol, or the first extension header. */
    public int nextHeader() {
        return buf.getUnsignedByte(offset + NEXT_HEADER);
    }

    public int hopLimit() {
        return buf.getUnsignedByte(offset + HOP_LIMIT);
    }

    public long sourceHigh() {
        return buf.getLong(offset + SOURCE);
    }

    public long sourceLow() {
        return buf.getLong(offset + SOURCE + 8);
    }

    public long destinationHigh() {
        return buf.getLong(offset + DESTINATION);
    }

    public long destinationLow() {
        return buf.getLong(offset + DESTINATION + 8);
    }

    /** Absolute index of the first byte after the fixed header. */
    public int payloadOffset() {
        return offset + HEADER_LENGTH;
    }

    public int payloadLength() {
        return payloadLength;
    }

    /** The sum of the pseudo-header the upper-layer checksum covers (RFC 8200 section 8.1), for this packet. */
    public long pseudoHeaderSum(int upperLayerLength) {
        return Checksums.pseudoHeaderSum6(sourceHigh(), sourceLow(), destinationHigh(), destinationLow(),
                nextHeader(), upperLayerLength);
    }

    /**
     * Writes a 40-byte header (traffic class and flow label zero) at absolute {@code index} of a buffer the caller
     * owns.
     *
     * @return the number of bytes written, {@link #HEADER_LENGTH}
     */
    public static int writeHeader(ByteBuf buf, int index, int payloadLength, int nextHeader, int hopLimit,
            long sourceHigh, long sourceLow, long destinationHigh, long destinationLow) {
        buf.setInt(index + VERSION_CLASS_FLOW, 6 << 28);
        buf.setShort(index + PAYLOAD_LENGTH, payloadLength);
        buf.setByte(index + NEXT_HEADER, nextHeader);
        buf.setByte(index + HOP_LIMIT, hopLimit);
        Ipv6Address.write(buf, index + SOURCE, sourceHigh, sourceLow);
        Ipv6Address.write(buf, index + DESTINATION, destinationHigh, destinationLow);
        return HEADER_LENGTH;
    }
}
