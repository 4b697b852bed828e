package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * A reusable view of an IPv4 packet (RFC 791) inside a {@link ByteBuf}. {@link #wrap} checks version, header length,
 * total length against the bytes present and the header checksum once; the accessors then read straight from the
 * buffer. The payload ends at the total length, so Ethernet padding after it is never mistaken for data.
 */
public final class Ipv4Packet {

    public static final int MIN_HEADER_LENGTH = 20;
    public static final int MAX_HEADER_LENGTH = 60;

    public static final int PROTOCOL_ICMP = 1;
    public static final int PROTOCOL_TCP = 6;
    public static final int PROTOCOL_UDP = 17;

    private static final int VERSION_IHL = 0;
    private static final int DSCP_ECN = 1;
    private static final int TOTAL_LENGTH = 2;
    private static final int IDENTIFICATION = 4;
    private static final int FLAGS_FRAGMENT_OFFSET = 6;
    private static final int TTL = 8;
    private static final int PROTOCOL = 9;
    private static final int CHECKSUM = 10;
    private static final int SOURCE = 12;
    private static final int DESTINATION = 16;

    private static final int FLAG_DONT_FRAGMENT = 0x4000;
    private static final int FLAG_MORE_FRAGMENTS = 0x2000;
    private static final int FRAGMENT_OFFSET_MASK = 0x1FFF;

    private ByteBuf buf;
    private int offset;
    private int headerLength;
    private int totalLength;

    /**
     * Views the IPv4 packet at absolute {@code offset}, where {@code length} bytes are present (an Ethernet payload,
     * possibly padded).
     */
    public ParseResult wrap(ByteBuf buf, int offset, int length) {
        this.buf = buf;
        this.offset = offset;
        this.headerLength = 0;
        this.totalLength = 0;
        if (length < MIN_HEADER_LENGTH) {
            return ParseResult.TRUNCATED;
        }
        int versionIhl = buf.getUnsignedByte(offset + VERSION_IHL);
        if ((versionIhl >>> 4) != 4) {
            return ParseResult.UNSUPPORTED_VERSION;
        }
        int ihlBytes = (versionIhl & 0x0F) * 4;
        if (ihlBytes < MIN_HEADER_LENGTH || ihlBytes > length) {
            return ParseResult.BAD_HEADER_LENGTH;
        }
        int total = buf.getUnsignedShort(offset + TOTAL_LENGTH);
        if (total < ihlBytes || total > length) {
            return ParseResult.BAD_TOTAL_LENGTH;
        }
        // RFC 791 section 3.1 / RFC 1071: the header, checksum field included, must sum to all ones.
        if (!Checksums.verifies(buf, offset, ihlBytes)) {
            return ParseResult.BAD_CHECKSUM;
        }
        this.headerLength = ihlBytes;
        this.totalLength = total;
        return ParseResult.OK;
    }

    public ByteBuf buffer() {
        return buf;
    }

    public int offset() {
        return offset;
    }

    /** Header length in bytes, options included (IHL × 4). */
    public int headerLength() {
        return headerLength;
    }

    public int optionsLength() {
        return headerLength - MIN_HEADER_LENGTH;
    }

    public int totalLength() {
        return totalLength;
    }

    public int dscpEcn() {
        return buf.getUnsignedByte(offset + DSCP_ECN);
    }

    public int identification() {
        return buf.getUnsignedShort(offset + IDENTIFICATION);
    }

    public boolean dontFragment() {
        return (buf.getUnsignedShort(offset + FLAGS_FRAGMENT_OFFSET) & FLAG_DONT_FRAGMENT) != 0;
    }

    public boolean moreFragments() {
        return (buf.getUnsignedShort(offset + FLAGS_FRAGMENT_OFFSET) & FLAG_MORE_FRAGMENTS) != 0;
    }

    /** Fragment offset in bytes (the field counts 8-byte units). */
    public int fragmentOffset() {
        return (buf.getUnsignedShort(offset + FLAGS_FRAGMENT_OFFSET) & FRAGMENT_OFFSET_MASK) * 8;
    }

    /** True for any piece of a fragmented datagram: more fragments follow, or this one is not the first. */
    public boolean isFragment() {
        return (buf.getUnsignedShort(offset + FLAGS_FRAGMENT_OFFSET) & (FLAG_MORE_FRAGMENTS | FRAGMENT_OFFSET_MASK))
                != 0;
    }

    public int ttl() {
        return buf.getUnsignedByte(offset + TTL);
    }

    public int protocol() {
        return buf.getUnsignedByte(offset + PROTOCOL);
    }

    public int headerChecksum() {
        return buf.getUnsignedShort(offset + CHECKSUM);
    }

    public int source() {
        return buf.getInt(offset + SOURCE);
    }

    public int destination() {
        return buf.getInt(offset + DESTINATION);
    }

    /** Absolute index of the first payload byte (after options). */
    public int payloadOffset() {
        return offset + headerLength;
    }

    public int payloadLength() {
        return totalLength - headerLength;
    }

    /** Rewrites the TTL in place, updating the header checksum incrementally (RFC 1624). */
    public void setTtl(int ttl) {
        int oldWord = buf.getUnsignedShort(offset + TTL);
        int newWord = (ttl & 0xFF) << 8 | (oldWord & 0xFF);
        buf.setShort(offset + TTL, newWord);
        buf.setShort(offset + CHECKSUM, Checksums.update16(headerChecksum(), oldWord, newWord));
    }

    /** Rewrites the source address in place, updating the header checksum incrementally (RFC 1624), for NAT. */
    public void setSource(int address) {
        int old = source();
        buf.setInt(offset + SOURCE, address);
        buf.setShort(offset + CHECKSUM, Checksums.update32(headerChecksum(), old, address));
    }

    /** Rewrites the destination address in place, updating the header checksum incrementally (RFC 1624). */
    public void setDestination(int address) {
        int old = destination();
        buf.setInt(offset + DESTINATION, address);
        buf.setShort(offset + CHECKSUM, Checksums.update32(headerChecksum(), old, address));
    }

    /**
     * Writes a 20-byte header without options, checksum filled in, at absolute {@code index} of a buffer the
     * caller owns: a whole datagram (fragment offset zero, MF clear).
     *
     * @param totalLength header plus payload, in bytes
     * @return the number of bytes written, {@link #MIN_HEADER_LENGTH}
     */
    public static int writeHeader(ByteBuf buf, int index, int totalLength, int identification, boolean dontFragment,
            int ttl, int protocol, int source, int destination) {
        return writeHeader(buf, index, totalLength, identification, dontFragment ? FLAG_DONT_FRAGMENT : 0, ttl,
                protocol, source, destination);
    }

    /**
     * Writes the header of one fragment of a datagram (RFC 791): {@code fragmentOffset} bytes into the datagram's
     * payload, a multiple of 8, with MF set unless it is the last. Otherwise as {@link #writeHeader}.
     */
    public static int writeFragmentHeader(ByteBuf buf, int index, int totalLength, int identification,
            int fragmentOffset, boolean moreFragments, int ttl, int protocol, int source, int destination) {
        if ((fragmentOffset & 7) != 0 || fragmentOffset > FRAGMENT_OFFSET_MASK * 8) {
            throw new IllegalArgumentException("fragment offset " + fragmentOffset);
        }
        return writeHeader(buf, index, totalLength, identification,
                (moreFragments ? FLAG_MORE_FRAGMENTS : 0) | fragmentOffset >>> 3, ttl, protocol, source, destination);
    }

    /**
     * Cuts the {@code length} bytes of payload at absolute {@code index} of {@code payload} into fragments whose IP
     * packets fit {@code mtu} (RFC 791 section 3.2), each in a frame from {@code newFrame} (given the fragment's
     * payload length, it returns a buffer whose readable bytes are the whole frame, Ethernet header written, the IP
     * packet after it), handed to {@code emit} in order. Returns the number of fragments.
     */
    public static int fragment(ByteBuf payload, int index, int length, int mtu, int identification, int ttl,
            int protocol, int source, int destination, IntFunction<ByteBuf> newFrame, Consumer<ByteBuf> emit) {
        // Every fragment but the last carries a multiple of 8 bytes: offsets count 8-byte units.
        int perFragment = (mtu - MIN_HEADER_LENGTH) & ~7;
        int fragments = 0;
        for (int offset = 0; offset < length; offset += perFragment) {
            int carried = Math.min(perFragment, length - offset);
            ByteBuf frame = newFrame.apply(carried);
            int at = frame.readerIndex() + EthernetFrame.HEADER_LENGTH;
            at += writeFragmentHeader(frame, at, MIN_HEADER_LENGTH + carried, identification, offset,
                    offset + carried < length, ttl, protocol, source, destination);
            frame.setBytes(at, payload, index + offset, carried);
            emit.accept(frame);
            fragments++;
        }
        return fragments;
    }

    private static int writeHeader(ByteBuf buf, int index, int totalLength, int identification, int flagsAndOffset,
            int ttl, int protocol, int source, int destination) {
        buf.setByte(index + VERSION_IHL, 0x45);
        buf.setByte(index + DSCP_ECN, 0);
        buf.setShort(index + TOTAL_LENGTH, totalLength);
        buf.setShort(index + IDENTIFICATION, identification);
        buf.setShort(index + FLAGS_FRAGMENT_OFFSET, flagsAndOffset);
        buf.setByte(index + TTL, ttl);
        buf.setByte(index + PROTOCOL, protocol);
        buf.setShort(index + CHECKSUM, 0);
        buf.setInt(index + SOURCE, source);
        buf.setInt(index + DESTINATION, destination);
        buf.setShort(index + CHECKSUM, Checksums.internetChecksum(buf, index, MIN_HEADER_LENGTH));
        return MIN_HEADER_LENGTH;
    }
}
