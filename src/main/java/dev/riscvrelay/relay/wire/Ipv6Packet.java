package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * A reusable view of an IPv6 packet (RFC 8200) inside a {@link ByteBuf}. {@link #wrap} checks the version and that
 * the payload length fits the bytes present; the accessors then read straight from the buffer. The payload ends at
 * the payload length, so Ethernet padding after it is never mistaken for data. Extension headers are not walked:
 * {@link #nextHeader()} is the fixed header's field, and a caller that wants an upper layer checks it is one.
 */
public final class Ipv6Packet {

    public static final int HEADER_LENGTH = 40;
    /** An IPv6 fragment header: next header, reserved, offset and M flag, identification. */
    public static final int FRAGMENT_HEADER_LENGTH = 8;

    public static final int NEXT_HEADER_HOP_BY_HOP = 0;
    public static final int NEXT_HEADER_TCP = 6;
    public static final int NEXT_HEADER_UDP = 17;
    public static final int NEXT_HEADER_ROUTING = 43;
    public static final int NEXT_HEADER_FRAGMENT = 44;
    public static final int NEXT_HEADER_ICMPV6 = 58;
    public static final int NEXT_HEADER_NONE = 59;
    public static final int NEXT_HEADER_DESTINATION_OPTIONS = 60;
    public static final int NEXT_HEADER_AUTHENTICATION = 51;
    public static final int NEXT_HEADER_MOBILITY = 135;
    public static final int NEXT_HEADER_HIP = 139;
    public static final int NEXT_HEADER_SHIM6 = 140;
    /**
     * The most extension headers {@link #walkExtensionHeaders()} follows: real packets carry two or three (RFC 8200
     * section 4.1 lists at most one of each, destination options twice); a longer chain only hides what it carries.
     */
    public static final int MAX_EXTENSION_HEADERS = 8;

    private static final int VERSION_CLASS_FLOW = 0;
    private static final int PAYLOAD_LENGTH = 4;
    private static final int NEXT_HEADER = 6;
    private static final int HOP_LIMIT = 7;
    private static final int SOURCE = 8;
    private static final int DESTINATION = 24;

    private ByteBuf buf;
    private int offset;
    private int payloadLength;
    private int upperLayer;
    private int upperLayerOffset;
    private boolean fragment;
    private boolean laterFragment;

    /**
     * Views the IPv6 packet at absolute {@code offset}, where {@code length} bytes are present (an Ethernet payload,
     * possibly padded).
     */
    public ParseResult wrap(ByteBuf buf, int offset, int length) {
        this.buf = buf;
        this.offset = offset;
        this.payloadLength = 0;
        this.upperLayer = NEXT_HEADER_NONE;
        this.upperLayerOffset = offset;
        this.fragment = false;
        this.laterFragment = false;
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

    /**
     * Follows the extension headers of a packet {@link #wrap} accepted. On {@link ParseResult#OK},
     * {@link #upperLayer()} and {@link #upperLayerOffset()} say what the chain leads to (for a later fragment: the
     * protocol its first fragment carries, at the start of its fragment data); otherwise
     * {@link ParseResult#BAD_EXTENSION_CHAIN}. Reads only inside the payload.
     */
    public ParseResult walkExtensionHeaders() {
        int next = nextHeader();
        int at = payloadOffset();
        int end = at + payloadLength;
        fragment = false;
        laterFragment = false;
        for (int count = 0; isExtensionHeader(next); count++) {
            // RFC 8200 section 4.1: hop-by-hop options only right after the fixed header.
            if (count == MAX_EXTENSION_HEADERS || (next == NEXT_HEADER_HOP_BY_HOP && count > 0) || end - at < 8) {
                return ParseResult.BAD_EXTENSION_CHAIN;
            }
            int following = buf.getUnsignedByte(at);
            int length;
            if (next == NEXT_HEADER_FRAGMENT) {
                length = 8;
                fragment = true;
                if ((buf.getUnsignedShort(at + 2) >>> 3) != 0) {
                    laterFragment = true;
                    upperLayer = following;
                    upperLayerOffset = at + length;
                    return ParseResult.OK;
                }
            } else if (next == NEXT_HEADER_AUTHENTICATION) {
                length = (buf.getUnsignedByte(at + 1) + 2) * 4; // RFC 4302 section 2.2: in 4-byte units
            } else {
                length = (buf.getUnsignedByte(at + 1) + 1) * 8;
            }
            if (length > end - at) {
                return ParseResult.BAD_EXTENSION_CHAIN;
            }
            at += length;
            next = following;
        }
        upperLayer = next;
        upperLayerOffset = at;
        return ParseResult.OK;
    }

    /** Whether {@code nextHeader} names an extension header {@link #walkExtensionHeaders()} steps over. */
    public static boolean isExtensionHeader(int nextHeader) {
        return switch (nextHeader) {
            case NEXT_HEADER_HOP_BY_HOP, NEXT_HEADER_ROUTING, NEXT_HEADER_FRAGMENT, NEXT_HEADER_DESTINATION_OPTIONS,
                    NEXT_HEADER_AUTHENTICATION, NEXT_HEADER_MOBILITY, NEXT_HEADER_HIP, NEXT_HEADER_SHIM6 -> true;
            default -> false;
        };
    }

    /** After {@link #walkExtensionHeaders()}: the protocol the chain leads to (upper layer, ESP or no next header). */
    public int upperLayer() {
        return upperLayer;
    }

    /** After {@link #walkExtensionHeaders()}: absolute index of the upper layer's first byte (or fragment data). */
    public int upperLayerOffset() {
        return upperLayerOffset;
    }

    /** After {@link #walkExtensionHeaders()}: bytes from {@link #upperLayerOffset()} to the payload's end. */
    public int upperLayerLength() {
        return payloadOffset() + payloadLength - upperLayerOffset;
    }

    /** After {@link #walkExtensionHeaders()}: whether the chain holds a fragment header. */
    public boolean fragment() {
        return fragment;
    }

    /** After {@link #walkExtensionHeaders()}: a fragment other than the first, whose upper-layer header is elsewhere. */
    public boolean laterFragment() {
        return laterFragment;
    }

    /** The sum of the pseudo-header the upper-layer checksum covers (RFC 8200 section 8.1), for this packet. */
    public long pseudoHeaderSum(int upperLayerLength) {
        return Checksums.pseudoHeaderSum6(sourceHigh(), sourceLow(), destinationHigh(), destinationLow(),
                nextHeader(), upperLayerLength);
    }

    /**
     * Writes a fragment header (RFC 8200 section 4.5) at absolute {@code index}: the fragment's data is
     * {@code fragmentOffset} bytes into the fragmentable part, a multiple of 8, with M set unless it is the last.
     *
     * @return the number of bytes written, {@link #FRAGMENT_HEADER_LENGTH}
     */
    public static int writeFragmentHeader(ByteBuf buf, int index, int nextHeader, int fragmentOffset,
            boolean moreFragments, int identification) {
        if ((fragmentOffset & 7) != 0 || fragmentOffset > 0xFFF8) {
            throw new IllegalArgumentException("fragment offset " + fragmentOffset);
        }
        buf.setByte(index, nextHeader);
        buf.setByte(index + 1, 0);
        buf.setShort(index + 2, fragmentOffset | (moreFragments ? 1 : 0));
        buf.setInt(index + 4, identification);
        return FRAGMENT_HEADER_LENGTH;
    }

    /**
     * Whether a fragment header follows the fixed header at once, whole inside the payload: how hosts send their
     * fragments when no hop-by-hop or routing header comes first. Its fields are then
     * {@link #fragmentNextHeader()}, {@link #fragmentOffset()}, {@link #moreFragments()} and
     * {@link #fragmentIdentification()}; the fragment's data follows it.
     */
    public boolean startsWithFragmentHeader() {
        return nextHeader() == NEXT_HEADER_FRAGMENT && payloadLength >= FRAGMENT_HEADER_LENGTH;
    }

    /** After {@link #startsWithFragmentHeader()}: the protocol the whole packet carries (from the first fragment). */
    public int fragmentNextHeader() {
        return buf.getUnsignedByte(payloadOffset());
    }

    /** After {@link #startsWithFragmentHeader()}: where this fragment's data goes in the whole packet, in bytes. */
    public int fragmentOffset() {
        return buf.getUnsignedShort(payloadOffset() + 2) & 0xFFF8;
    }

    /** After {@link #startsWithFragmentHeader()}: the M flag, set on every fragment but the last. */
    public boolean moreFragments() {
        return (buf.getUnsignedShort(payloadOffset() + 2) & 1) != 0;
    }

    /** After {@link #startsWithFragmentHeader()}: the identification the fragments of one packet share. */
    public int fragmentIdentification() {
        return buf.getInt(payloadOffset() + 4);
    }

    /**
     * Cuts the {@code length} bytes at absolute {@code index} of {@code payload} (an upper-layer header and its
     * data, of protocol {@code nextHeader}) into fragments whose packets fit {@code mtu} (RFC 8200 section 4.5), each
     * in a frame from {@code newFrame} (given the fragment's IPv6 payload length, fragment header included, it
     * returns a buffer whose readable bytes are the whole frame, Ethernet header written, the IPv6 packet after it),
     * handed to {@code emit} in order. Returns the number of fragments.
     */
    public static int fragment(ByteBuf payload, int index, int length, int mtu, int identification, int nextHeader,
            int hopLimit, long sourceHigh, long sourceLow, long destinationHigh, long destinationLow,
            IntFunction<ByteBuf> newFrame, Consumer<ByteBuf> emit) {
        // Every fragment but the last carries a multiple of 8 bytes: offsets count 8-byte units.
        int perFragment = (mtu - HEADER_LENGTH - FRAGMENT_HEADER_LENGTH) & ~7;
        int fragments = 0;
        for (int offset = 0; offset < length; offset += perFragment) {
            int carried = Math.min(perFragment, length - offset);
            ByteBuf frame = newFrame.apply(FRAGMENT_HEADER_LENGTH + carried);
            int at = frame.readerIndex() + EthernetFrame.HEADER_LENGTH;
            at += writeHeader(frame, at, FRAGMENT_HEADER_LENGTH + carried, NEXT_HEADER_FRAGMENT, hopLimit, sourceHigh,
                    sourceLow, destinationHigh, destinationLow);
            at += writeFragmentHeader(frame, at, nextHeader, offset, offset + carried < length, identification);
            frame.setBytes(at, payload, index + offset, carried);
            emit.accept(frame);
            fragments++;
        }
        return fragments;
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
