package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;

/**
 * A reusable view of an ICMPv6 message (RFC 4443). {@link #wrap} checks that the 4-byte header fits and that the
 * checksum, which unlike ICMPv4's covers the IPv6 pseudo-header too (RFC 4443 section 2.3), verifies. Identifier and
 * sequence number are meaningful for echo request and reply, whose header is 8 bytes.
 */
public final class Icmpv6Packet {

    /** Type, code, checksum. */
    public static final int HEADER_LENGTH = 4;
    /** Type, code, checksum, identifier, sequence number. */
    public static final int ECHO_HEADER_LENGTH = 8;

    public static final int TYPE_DESTINATION_UNREACHABLE = 1;
    public static final int TYPE_PACKET_TOO_BIG = 2;
    public static final int TYPE_TIME_EXCEEDED = 3;
    public static final int TYPE_PARAMETER_PROBLEM = 4;
    public static final int TYPE_ECHO_REQUEST = 128;
    public static final int TYPE_ECHO_REPLY = 129;
    public static final int TYPE_ROUTER_SOLICITATION = 133;
    public static final int TYPE_ROUTER_ADVERTISEMENT = 134;
    public static final int TYPE_NEIGHBOR_SOLICITATION = 135;
    public static final int TYPE_NEIGHBOR_ADVERTISEMENT = 136;

    /** RFC 4443 section 3.1 destination unreachable codes. */
    public static final int CODE_NO_ROUTE = 0;
    public static final int CODE_ADMIN_PROHIBITED = 1;
    public static final int CODE_ADDRESS_UNREACHABLE = 3;
    public static final int CODE_PORT_UNREACHABLE = 4;

    /** Type, code, checksum and the four bytes (unused, MTU or pointer) before an error's invoking packet. */
    public static final int ERROR_HEADER_LENGTH = 8;

    private static final int TYPE = 0;
    private static final int CODE = 1;
    private static final int CHECKSUM = 2;
    private static final int IDENTIFIER = 4;
    private static final int SEQUENCE = 6;

    private ByteBuf buf;
    private int offset;
    private int length;

    /**
     * Views the ICMPv6 message of exactly {@code length} bytes at absolute {@code offset}.
     *
     * @param pseudoHeaderSum the packet's {@link Checksums#pseudoHeaderSum6} for next header 58 and this length
     */
    public ParseResult wrap(ByteBuf buf, int offset, int length, long pseudoHeaderSum) {
        this.buf = buf;
        this.offset = offset;
        this.length = length;
        if (length < HEADER_LENGTH) {
            return ParseResult.TRUNCATED;
        }
        if (Checksums.fold(pseudoHeaderSum + Checksums.sum(buf, offset, length)) != 0xFFFF) {
            return ParseResult.BAD_CHECKSUM;
        }
        return ParseResult.OK;
    }

    /** Views the payload of an IPv6 packet whose next header is ICMPv6 (no extension headers). */
    public ParseResult wrap(Ipv6Packet ip) {
        return wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength(), ip.pseudoHeaderSum(ip.payloadLength()));
    }

    public int offset() {
        return offset;
    }

    public int length() {
        return length;
    }

    public int type() {
        return buf.getUnsignedByte(offset + TYPE);
    }

    public int code() {
        return buf.getUnsignedByte(offset + CODE);
    }

    public int checksum() {
        return buf.getUnsignedShort(offset + CHECKSUM);
    }

    /** Whether the message is long enough to carry an identifier and sequence number (an echo's header). */
    public boolean hasEchoHeader() {
        return length >= ECHO_HEADER_LENGTH;
    }

    public int identifier() {
        return buf.getUnsignedShort(offset + IDENTIFIER);
    }

    public int sequenceNumber() {
        return buf.getUnsignedShort(offset + SEQUENCE);
    }

    /** Absolute index of the message body after type, code and checksum. */
    public int bodyOffset() {
        return offset + HEADER_LENGTH;
    }

    public int bodyLength() {
        return length - HEADER_LENGTH;
    }

    /**
     * Writes type, code and a zero checksum at absolute {@code index}; write the body after it, then call
     * {@link #fillChecksum}.
     *
     * @return the number of bytes written, {@link #HEADER_LENGTH}
     */
    public static int writeHeader(ByteBuf buf, int index, int type, int code) {
        buf.setByte(index + TYPE, type);
        buf.setByte(index + CODE, code);
        buf.setShort(index + CHECKSUM, 0);
        return HEADER_LENGTH;
    }

    /**
     * Computes and stores the checksum of the {@code length}-byte message at {@code index} (the field must be 0),
     * over the pseudo-header of the packet that carries it.
     */
    public static void fillChecksum(ByteBuf buf, int index, int length, long sourceHigh, long sourceLow,
            long destinationHigh, long destinationLow) {
        long pseudo = Checksums.pseudoHeaderSum6(sourceHigh, sourceLow, destinationHigh, destinationLow,
                Ipv6Packet.NEXT_HEADER_ICMPV6, length);
        int checksum = Checksums.finish(pseudo + Checksums.sum(buf, index, length));
        // RFC 4443 section 2.3 computes it like UDP's; a computed 0 and 0xFFFF both verify, 0 is sent as is.
        buf.setShort(index + CHECKSUM, checksum);
    }

    /**
     * How many bytes of an invoking packet of {@code packetLength} bytes an error quotes: as much as fits with the
     * error's own headers in {@code packetLimit} bytes (RFC 4443 section 2.4 (c): the minimum MTU or less).
     */
    public static int quotedLength(int packetLength, int packetLimit) {
        return Math.max(0, Math.min(packetLength, packetLimit - Ipv6Packet.HEADER_LENGTH - ERROR_HEADER_LENGTH));
    }

    /**
     * Writes a whole ICMPv6 error at absolute {@code index}: type, code, the four bytes {@code parameter}, then
     * {@code quoteLength} bytes of the invoking packet from absolute {@code quoteIndex} of {@code quote}, and the
     * checksum over the pseudo-header of the packet that carries it.
     *
     * @return the message's length
     */
    public static int writeError(ByteBuf buf, int index, int type, int code, int parameter, ByteBuf quote,
            int quoteIndex, int quoteLength, long sourceHigh, long sourceLow, long destinationHigh,
            long destinationLow) {
        int length = ERROR_HEADER_LENGTH + quoteLength;
        writeHeader(buf, index, type, code);
        buf.setInt(index + 4, parameter);
        buf.setBytes(index + ERROR_HEADER_LENGTH, quote, quoteIndex, quoteLength);
        fillChecksum(buf, index, length, sourceHigh, sourceLow, destinationHigh, destinationLow);
        return length;
    }
}
