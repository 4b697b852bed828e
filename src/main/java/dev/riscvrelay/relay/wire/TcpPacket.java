package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;

/**
 * A reusable view of a TCP segment (RFC 9293 section 3.1) inside an IPv4 packet. {@link #wrap} checks the data
 * offset against the bytes present; {@link #checksumValid} verifies the checksum with the IPv4 pseudo-header;
 * {@link #parseOptions} reads the options the relay uses (MSS, window scale, SACK permitted, SACK blocks,
 * timestamps) into plain fields, validating every length. Writers build a header into a buffer the caller owns.
 */
public final class TcpPacket {

    public static final int MIN_HEADER_LENGTH = 20;
    public static final int MAX_HEADER_LENGTH = 60;
    /** RFC 9293 section 3.1: the data offset's four bits leave at most 40 bytes of options. */
    public static final int MAX_OPTIONS_LENGTH = MAX_HEADER_LENGTH - MIN_HEADER_LENGTH;
    /** Two NOPs and the timestamps option (RFC 7323 appendix A), as {@link #writeTimestampsOption} writes it. */
    public static final int TIMESTAMPS_OPTION_LENGTH = 12;

    public static final int FLAG_FIN = 0x01;
    public static final int FLAG_SYN = 0x02;
    public static final int FLAG_RST = 0x04;
    public static final int FLAG_PSH = 0x08;
    public static final int FLAG_ACK = 0x10;
    public static final int FLAG_URG = 0x20;

    public static final int OPTION_END = 0;
    public static final int OPTION_NOP = 1;
    public static final int OPTION_MSS = 2;
    public static final int OPTION_WINDOW_SCALE = 3;
    public static final int OPTION_SACK_PERMITTED = 4;
    public static final int OPTION_SACK = 5;
    public static final int OPTION_TIMESTAMPS = 8;

    /** RFC 7323 section 2.3: shift counts above 14 are treated as 14. */
    public static final int MAX_WINDOW_SCALE = 14;
    /** RFC 2018: at most four SACK blocks fit in 40 bytes of options. */
    public static final int MAX_SACK_BLOCKS = 4;

    private static final int SOURCE_PORT = 0;
    private static final int DESTINATION_PORT = 2;
    private static final int SEQUENCE = 4;
    private static final int ACKNOWLEDGEMENT = 8;
    private static final int DATA_OFFSET = 12;
    private static final int FLAGS = 13;
    private static final int WINDOW = 14;
    private static final int CHECKSUM = 16;
    private static final int URGENT = 18;

    private ByteBuf buf;
    private int offset;
    private int length;
    private int headerLength;

    // Options, valid after parseOptions().
    private int mss;
    private int windowScale;
    private boolean sackPermitted;
    private boolean hasTimestamps;
    private int timestampValue;
    private int timestampEcho;
    private int sackBlockCount;
    private final int[] sackLeft = new int[MAX_SACK_BLOCKS];
    private final int[] sackRight = new int[MAX_SACK_BLOCKS];

    /** Views the segment of exactly {@code length} bytes (an IPv4 payload) at absolute {@code offset}. */
    public ParseResult wrap(ByteBuf buf, int offset, int length) {
        this.buf = buf;
        this.offset = offset;
        this.length = length;
        this.headerLength = 0;
        if (length < MIN_HEADER_LENGTH) {
            return ParseResult.TRUNCATED;
        }
        int dataOffsetBytes = (buf.getUnsignedByte(offset + DATA_OFFSET) >>> 4) * 4;
        if (dataOffsetBytes < MIN_HEADER_LENGTH || dataOffsetBytes > length) {
            return ParseResult.BAD_DATA_OFFSET;
        }
        this.headerLength = dataOffsetBytes;
        return ParseResult.OK;
    }

    /** Whether the checksum over pseudo-header, header and data verifies (RFC 9293 section 3.1). */
    public boolean checksumValid(int sourceAddress, int destinationAddress) {
        long sum = Checksums.pseudoHeaderSum(sourceAddress, destinationAddress, Ipv4Packet.PROTOCOL_TCP, length)
                + Checksums.sum(buf, offset, length);
        return Checksums.fold(sum) == 0xFFFF;
    }

    /** {@link #checksumValid} over the IPv6 pseudo-header (RFC 8200 section 8.1). */
    public boolean checksumValidOverIpv6(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow) {
        long sum = Checksums.pseudoHeaderSum6(sourceHigh, sourceLow, destinationHigh, destinationLow,
                Ipv6Packet.NEXT_HEADER_TCP, length) + Checksums.sum(buf, offset, length);
        return Checksums.fold(sum) == 0xFFFF;
    }

    /**
     * Reads the options into this view's option fields. Unknown options are skipped by their length.
     *
     * @return {@link ParseResult#OK}, or {@link ParseResult#BAD_OPTION} when a length is impossible
     */
    public ParseResult parseOptions() {
        mss = -1;
        windowScale = -1;
        sackPermitted = false;
        hasTimestamps = false;
        sackBlockCount = 0;
        int at = offset + MIN_HEADER_LENGTH;
        int end = offset + headerLength;
        while (at < end) {
            int kind = buf.getUnsignedByte(at);
            if (kind == OPTION_END) {
                break;
            }
            if (kind == OPTION_NOP) {
                at++;
                continue;
            }
            if (at + 1 >= end) {
                return ParseResult.BAD_OPTION;
            }
            int optionLength = buf.getUnsignedByte(at + 1);
            if (optionLength < 2 || at + optionLength > end) {
                return ParseResult.BAD_OPTION;
            }
            switch (kind) {
                case OPTION_MSS -> {
                    if (optionLength != 4) {
                        return ParseResult.BAD_OPTION;
                    }
                    mss = buf.getUnsignedShort(at + 2);
                }
                case OPTION_WINDOW_SCALE -> {
                    if (optionLength != 3) {
                        return ParseResult.BAD_OPTION;
                    }
                    windowScale = Math.min(buf.getUnsignedByte(at + 2), MAX_WINDOW_SCALE);
                }
                case OPTION_SACK_PERMITTED -> {
                    if (optionLength != 2) {
                        return ParseResult.BAD_OPTION;
                    }
                    sackPermitted = true;
                }
                case OPTION_SACK -> {
                    int blocks = (optionLength - 2) / 8;
                    if ((optionLength - 2) % 8 != 0 || blocks == 0 || blocks > MAX_SACK_BLOCKS) {
                        return ParseResult.BAD_OPTION;
                    }
                    for (int i = 0; i < blocks; i++) {
                        sackLeft[i] = buf.getInt(at + 2 + 8 * i);
                        sackRight[i] = buf.getInt(at + 6 + 8 * i);
                    }
                    sackBlockCount = blocks;
                }
                case OPTION_TIMESTAMPS -> {
                    if (optionLength != 10) {
                        return ParseResult.BAD_OPTION;
                    }
                    hasTimestamps = true;
                    timestampValue = buf.getInt(at + 2);
                    timestampEcho = buf.getInt(at + 6);
                }
                default -> {
                    // RFC 9293 section 3.1: unknown options are skipped by their length.
                }
            }
            at += optionLength;
        }
        return ParseResult.OK;
    }

    public ByteBuf buffer() {
        return buf;
    }

    public int offset() {
        return offset;
    }

    /** Header plus data: the IPv4 payload length. */
    public int length() {
        return length;
    }

    public int headerLength() {
        return headerLength;
    }

    public int sourcePort() {
        return buf.getUnsignedShort(offset + SOURCE_PORT);
    }

    public int destinationPort() {
        return buf.getUnsignedShort(offset + DESTINATION_PORT);
    }

    public int sequenceNumber() {
        return buf.getInt(offset + SEQUENCE);
    }

    public int acknowledgementNumber() {
        return buf.getInt(offset + ACKNOWLEDGEMENT);
    }

    /** The six classic flag bits (URG, ACK, PSH, RST, SYN, FIN); ECN bits are left out. */
    public int flags() {
        return buf.getUnsignedByte(offset + FLAGS) & 0x3F;
    }

    public boolean isSyn() {
        return (flags() & FLAG_SYN) != 0;
    }

    public boolean isAck() {
        return (flags() & FLAG_ACK) != 0;
    }

    public boolean isFin() {
        return (flags() & FLAG_FIN) != 0;
    }

    public boolean isRst() {
        return (flags() & FLAG_RST) != 0;
    }

    /** The raw 16-bit window field, before any scaling. */
    public int window() {
        return buf.getUnsignedShort(offset + WINDOW);
    }

    public int checksum() {
        return buf.getUnsignedShort(offset + CHECKSUM);
    }

    public int urgentPointer() {
        return buf.getUnsignedShort(offset + URGENT);
    }

    public int dataOffset() {
        return offset + headerLength;
    }

    public int dataLength() {
        return length - headerLength;
    }

    /** The sequence space the segment occupies: data, plus one each for SYN and FIN (RFC 9293 section 3.4). */
    public int sequenceLength() {
        int flags = flags();
        return dataLength() + ((flags & FLAG_SYN) != 0 ? 1 : 0) + ((flags & FLAG_FIN) != 0 ? 1 : 0);
    }

    /** The MSS option, or -1 when absent. */
    public int mss() {
        return mss;
    }

    /** The window scale shift count (capped at 14), or -1 when absent. */
    public int windowScale() {
        return windowScale;
    }

    public boolean sackPermitted() {
        return sackPermitted;
    }

    public boolean hasTimestamps() {
        return hasTimestamps;
    }

    public int timestampValue() {
        return timestampValue;
    }

    public int timestampEcho() {
        return timestampEcho;
    }

    public int sackBlockCount() {
        return sackBlockCount;
    }

    public int sackLeft(int block) {
        return sackLeft[block];
    }

    public int sackRight(int block) {
        return sackRight[block];
    }

    /**
     * Writes a TCP header with a zero checksum at absolute {@code index}; options (if any) follow at
     * {@code index + 20} and are the caller's to write; then the data, then {@link #fillChecksum}.
     *
     * @param headerLength 20 plus the options' length, a multiple of 4
     * @return the number of bytes written, {@link #MIN_HEADER_LENGTH}
     */
    public static int writeHeader(ByteBuf buf, int index, int sourcePort, int destinationPort, int sequence,
            int acknowledgement, int headerLength, int flags, int window) {
        buf.setShort(index + SOURCE_PORT, sourcePort);
        buf.setShort(index + DESTINATION_PORT, destinationPort);
        buf.setInt(index + SEQUENCE, sequence);
        buf.setInt(index + ACKNOWLEDGEMENT, acknowledgement);
        buf.setByte(index + DATA_OFFSET, (headerLength / 4) << 4);
        buf.setByte(index + FLAGS, flags);
        buf.setShort(index + WINDOW, window);
        buf.setInt(index + CHECKSUM, 0); // checksum and urgent pointer
        return MIN_HEADER_LENGTH;
    }

    /** Writes the 4-byte MSS option at {@code index}; returns 4. */
    public static int writeMssOption(ByteBuf buf, int index, int mss) {
        buf.setByte(index, OPTION_MSS);
        buf.setByte(index + 1, 4);
        buf.setShort(index + 2, mss);
        return 4;
    }

    /** Writes NOP plus the 3-byte window scale option at {@code index} (4 bytes, keeps alignment); returns 4. */
    public static int writeWindowScaleOption(ByteBuf buf, int index, int shift) {
        buf.setByte(index, OPTION_NOP);
        buf.setByte(index + 1, OPTION_WINDOW_SCALE);
        buf.setByte(index + 2, 3);
        buf.setByte(index + 3, shift);
        return 4;
    }

    /** Writes two NOPs plus SACK permitted at {@code index} (4 bytes); returns 4. */
    public static int writeSackPermittedOption(ByteBuf buf, int index) {
        buf.setByte(index, OPTION_NOP);
        buf.setByte(index + 1, OPTION_NOP);
        buf.setByte(index + 2, OPTION_SACK_PERMITTED);
        buf.setByte(index + 3, 2);
        return 4;
    }

    /** Writes two NOPs plus a SACK option with {@code count} blocks at {@code index}; returns 4 + 8 × count. */
    public static int writeSackOption(ByteBuf buf, int index, int[] left, int[] right, int count) {
        buf.setByte(index, OPTION_NOP);
        buf.setByte(index + 1, OPTION_NOP);
        buf.setByte(index + 2, OPTION_SACK);
        buf.setByte(index + 3, 2 + 8 * count);
        for (int i = 0; i < count; i++) {
            buf.setInt(index + 4 + 8 * i, left[i]);
            buf.setInt(index + 8 + 8 * i, right[i]);
        }
        return 4 + 8 * count;
    }

    /** Writes two NOPs plus the timestamps option at {@code index} (12 bytes, RFC 7323 appendix A); returns 12. */
    public static int writeTimestampsOption(ByteBuf buf, int index, int value, int echo) {
        buf.setByte(index, OPTION_NOP);
        buf.setByte(index + 1, OPTION_NOP);
        buf.setByte(index + 2, OPTION_TIMESTAMPS);
        buf.setByte(index + 3, 10);
        buf.setInt(index + 4, value);
        buf.setInt(index + 8, echo);
        return 12;
    }

    /** Computes and stores the checksum of the {@code length}-byte segment at {@code index} (field must be 0). */
    public static void fillChecksum(ByteBuf buf, int index, int length, int sourceAddress, int destinationAddress) {
        long sum = Checksums.pseudoHeaderSum(sourceAddress, destinationAddress, Ipv4Packet.PROTOCOL_TCP, length)
                + Checksums.sum(buf, index, length);
        buf.setShort(index + CHECKSUM, Checksums.finish(sum));
    }

    /** {@link #fillChecksum} over the IPv6 pseudo-header (RFC 8200 section 8.1). */
    public static void fillChecksumOverIpv6(ByteBuf buf, int index, int length, long sourceHigh, long sourceLow,
            long destinationHigh, long destinationLow) {
        long sum = Checksums.pseudoHeaderSum6(sourceHigh, sourceLow, destinationHigh, destinationLow,
                Ipv6Packet.NEXT_HEADER_TCP, length) + Checksums.sum(buf, index, length);
        buf.setShort(index + CHECKSUM, Checksums.finish(sum));
    }

    /**
     * {@link #fillChecksum} with the pseudo-header's sum given ({@link Checksums#pseudoHeaderSum} or
     * {@link Checksums#pseudoHeaderSum6}): the same code for either address family.
     */
    public static void fillChecksum(ByteBuf buf, int index, int length, long pseudoHeaderSum) {
        buf.setShort(index + CHECKSUM, Checksums.finish(pseudoHeaderSum + Checksums.sum(buf, index, length)));
    }
}
