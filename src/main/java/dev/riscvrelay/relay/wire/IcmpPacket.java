package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;

/**
 * A reusable view of an ICMPv4 message (RFC 792). {@link #wrap} checks that the 8-byte header fits and that the
 * checksum over the whole message verifies. Identifier and sequence number are meaningful for echo and echo reply.
 */
public final class IcmpPacket {

    public static final int HEADER_LENGTH = 8;

    public static final int TYPE_ECHO_REPLY = 0;
    public static final int TYPE_DESTINATION_UNREACHABLE = 3;
    public static final int TYPE_ECHO_REQUEST = 8;
    public static final int TYPE_TIME_EXCEEDED = 11;

    private static final int TYPE = 0;
    private static final int CODE = 1;
    private static final int CHECKSUM = 2;
    private static final int IDENTIFIER = 4;
    private static final int SEQUENCE = 6;

    private ByteBuf buf;
    private int offset;
    private int length;

    /** Views the ICMP message of exactly {@code length} bytes (an IPv4 payload) at absolute {@code offset}. */
    public ParseResult wrap(ByteBuf buf, int offset, int length) {
        this.buf = buf;
        this.offset = offset;
        this.length = length;
        if (length < HEADER_LENGTH) {
            return ParseResult.TRUNCATED;
        }
        // RFC 792: the checksum covers the ICMP message from the type field on, data included.
        if (!Checksums.verifies(buf, offset, length)) {
            return ParseResult.BAD_CHECKSUM;
        }
        return ParseResult.OK;
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

    public int identifier() {
        return buf.getUnsignedShort(offset + IDENTIFIER);
    }

    public int sequenceNumber() {
        return buf.getUnsignedShort(offset + SEQUENCE);
    }

    /** Absolute index of the data after the 8-byte header. */
    public int dataOffset() {
        return offset + HEADER_LENGTH;
    }

    public int dataLength() {
        return length - HEADER_LENGTH;
    }

    /**
     * Writes an echo or echo-reply header at absolute {@code index} with a zero checksum; write the data after it,
     * then call {@link #fillChecksum}.
     *
     * @return the number of bytes written, {@link #HEADER_LENGTH}
     */
    public static int writeEchoHeader(ByteBuf buf, int index, int type, int identifier, int sequenceNumber) {
        buf.setByte(index + TYPE, type);
        buf.setByte(index + CODE, 0);
        buf.setShort(index + CHECKSUM, 0);
        buf.setShort(index + IDENTIFIER, identifier);
        buf.setShort(index + SEQUENCE, sequenceNumber);
        return HEADER_LENGTH;
    }

    /** Computes and stores the checksum of the {@code length}-byte message at {@code index} (field must be 0). */
    public static void fillChecksum(ByteBuf buf, int index, int length) {
        buf.setShort(index + CHECKSUM, Checksums.internetChecksum(buf, index, length));
    }
}
