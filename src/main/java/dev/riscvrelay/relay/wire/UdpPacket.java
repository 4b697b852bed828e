package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;

/**
 * A reusable view of a UDP datagram (RFC 768). {@link #wrap} checks the header and the length field against the
 * bytes present; the checksum needs the IPv4 pseudo-header, so it is verified separately with
 * {@link #checksumValid} (or {@link #checksumValidOverIpv6}). Only meaningful on an unfragmented packet: a first fragment holds the header but not
 * the whole datagram the length and checksum cover.
 */
public final class UdpPacket {

    public static final int HEADER_LENGTH = 8;

    private static final int SOURCE_PORT = 0;
    private static final int DESTINATION_PORT = 2;
    private static final int LENGTH = 4;
    private static final int CHECKSUM = 6;

    private ByteBuf buf;
    private int offset;
    private int length;

    /** Views the UDP datagram at absolute {@code offset}, where {@code available} bytes are present. */
    public ParseResult wrap(ByteBuf buf, int offset, int available) {
        this.buf = buf;
        this.offset = offset;
        this.length = 0;
        if (available < HEADER_LENGTH) {
            return ParseResult.TRUNCATED;
        }
        int declared = buf.getUnsignedShort(offset + LENGTH);
        if (declared < HEADER_LENGTH || declared > available) {
            return ParseResult.BAD_LENGTH;
        }
        this.length = declared;
        return ParseResult.OK;
    }

    public int offset() {
        return offset;
    }

    public int sourcePort() {
        return buf.getUnsignedShort(offset + SOURCE_PORT);
    }

    public int destinationPort() {
        return buf.getUnsignedShort(offset + DESTINATION_PORT);
    }

    /** The length field: header plus data. */
    public int length() {
        return length;
    }

    public int checksum() {
        return buf.getUnsignedShort(offset + CHECKSUM);
    }

    /** RFC 768: a transmitted checksum of zero means the sender computed none. */
    public boolean hasChecksum() {
        return checksum() != 0;
    }

    /** True when the checksum (over pseudo-header, header and data) verifies, or when there is none. */
    public boolean checksumValid(int sourceAddress, int destinationAddress) {
        if (!hasChecksum()) {
            return true;
        }
        long sum = Checksums.pseudoHeaderSum(sourceAddress, destinationAddress, Ipv4Packet.PROTOCOL_UDP, length)
                + Checksums.sum(buf, offset, length);
        return Checksums.fold(sum) == 0xFFFF;
    }

    /**
     * True when the checksum over the IPv6 pseudo-header, header and data verifies. Over IPv6 the checksum is
     * mandatory (RFC 8200 section 8.1), so a zero field fails.
     */
    public boolean checksumValidOverIpv6(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow) {
        if (!hasChecksum()) {
            return false;
        }
        long sum = Checksums.pseudoHeaderSum6(sourceHigh, sourceLow, destinationHigh, destinationLow,
                Ipv6Packet.NEXT_HEADER_UDP, length) + Checksums.sum(buf, offset, length);
        return Checksums.fold(sum) == 0xFFFF;
    }

    public int dataOffset() {
        return offset + HEADER_LENGTH;
    }

    public int dataLength() {
        return length - HEADER_LENGTH;
    }

    /**
     * Writes a UDP header with a zero checksum at absolute {@code index}; write the data, then call
     * {@link #fillChecksum}.
     *
     * @param length header plus data, in bytes
     * @return the number of bytes written, {@link #HEADER_LENGTH}
     */
    public static int writeHeader(ByteBuf buf, int index, int sourcePort, int destinationPort, int length) {
        buf.setShort(index + SOURCE_PORT, sourcePort);
        buf.setShort(index + DESTINATION_PORT, destinationPort);
        buf.setShort(index + LENGTH, length);
        buf.setShort(index + CHECKSUM, 0);
        return HEADER_LENGTH;
    }

    /** Computes and stores the checksum of the {@code length}-byte datagram at {@code index} (field must be 0). */
    public static void fillChecksum(ByteBuf buf, int index, int length, int sourceAddress, int destinationAddress) {
        long sum = Checksums.pseudoHeaderSum(sourceAddress, destinationAddress, Ipv4Packet.PROTOCOL_UDP, length)
                + Checksums.sum(buf, index, length);
        int checksum = Checksums.finish(sum);
        // RFC 768: a computed zero is sent as all ones, since zero means "no checksum".
        buf.setShort(index + CHECKSUM, checksum == 0 ? 0xFFFF : checksum);
    }

    /** {@link #fillChecksum} over the IPv6 pseudo-header (RFC 8200 section 8.1); a computed zero is sent as all ones. */
    public static void fillChecksumOverIpv6(ByteBuf buf, int index, int length, long sourceHigh, long sourceLow,
            long destinationHigh, long destinationLow) {
        long sum = Checksums.pseudoHeaderSum6(sourceHigh, sourceLow, destinationHigh, destinationLow,
                Ipv6Packet.NEXT_HEADER_UDP, length) + Checksums.sum(buf, index, length);
        int checksum = Checksums.finish(sum);
        buf.setShort(index + CHECKSUM, checksum == 0 ? 0xFFFF : checksum);
    }

    /**
     * {@link #fillChecksum} with the pseudo-header's sum given ({@link Checksums#pseudoHeaderSum} or
     * {@link Checksums#pseudoHeaderSum6}): the same code for either address family.
     */
    public static void fillChecksum(ByteBuf buf, int index, int length, long pseudoHeaderSum) {
        int checksum = Checksums.finish(pseudoHeaderSum + Checksums.sum(buf, index, length));
        buf.setShort(index + CHECKSUM, checksum == 0 ? 0xFFFF : checksum);
    }
}
