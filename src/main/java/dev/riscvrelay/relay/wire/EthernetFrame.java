package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;

/**
 * A reusable view of an Ethernet II frame (no preamble, no FCS) inside a {@link ByteBuf}. {@link #wrap} checks the
 * header once; the accessors then read straight from the buffer. One 802.1Q or 802.1ad tag is recognised: its
 * VLAN id is exposed and {@link #etherType()} is the type after the tag. The view never owns or releases the buffer.
 */
public final class EthernetFrame {

    public static final int HEADER_LENGTH = 14;
    public static final int TAG_LENGTH = 4;

    public static final int TYPE_IPV4 = 0x0800;
    public static final int TYPE_ARP = 0x0806;
    public static final int TYPE_VLAN = 0x8100;
    public static final int TYPE_QINQ = 0x88A8;
    public static final int TYPE_IPV6 = 0x86DD;

    private static final int DESTINATION = 0;
    private static final int SOURCE = 6;
    private static final int TYPE = 12;

    private ByteBuf buf;
    private int offset;
    private int length;
    private int etherType;
    private int vlanId;
    private int payloadOffset;

    /**
     * Views {@code length} bytes of {@code buf} at absolute {@code offset} as a frame.
     *
     * @return {@link ParseResult#OK}, or {@link ParseResult#TRUNCATED} when the header (with its tag) does not fit
     */
    public ParseResult wrap(ByteBuf buf, int offset, int length) {
        this.buf = buf;
        this.offset = offset;
        this.length = length;
        if (length < HEADER_LENGTH) {
            return ParseResult.TRUNCATED;
        }
        int type = buf.getUnsignedShort(offset + TYPE);
        if (type == TYPE_VLAN || type == TYPE_QINQ) {
            if (length < HEADER_LENGTH + TAG_LENGTH) {
                return ParseResult.TRUNCATED;
            }
            // IEEE 802.1Q section 9.6: the TCI's low 12 bits are the VLAN id, the next type follows the tag.
            vlanId = buf.getUnsignedShort(offset + TYPE + 2) & 0x0FFF;
            etherType = buf.getUnsignedShort(offset + TYPE + 4);
            payloadOffset = offset + HEADER_LENGTH + TAG_LENGTH;
        } else {
            vlanId = -1;
            etherType = type;
            payloadOffset = offset + HEADER_LENGTH;
        }
        return ParseResult.OK;
    }

    /** Wraps the readable bytes of {@code buf}. */
    public ParseResult wrap(ByteBuf buf) {
        return wrap(buf, buf.readerIndex(), buf.readableBytes());
    }

    public ByteBuf buffer() {
        return buf;
    }

    public int offset() {
        return offset;
    }

    public int length() {
        return length;
    }

    public long destination() {
        return MacAddress.read(buf, offset + DESTINATION);
    }

    public long source() {
        return MacAddress.read(buf, offset + SOURCE);
    }

    /** The EtherType of the payload (after a VLAN tag if there is one); values below 0x0600 are 802.3 lengths. */
    public int etherType() {
        return etherType;
    }

    public boolean hasVlanTag() {
        return vlanId >= 0;
    }

    /** The 802.1Q VLAN id, or -1 when the frame is untagged. */
    public int vlanId() {
        return vlanId;
    }

    /** Absolute index of the first payload byte. */
    public int payloadOffset() {
        return payloadOffset;
    }

    /** Payload bytes up to the end of the frame, including any padding to the 60-byte minimum. */
    public int payloadLength() {
        return offset + length - payloadOffset;
    }

    /**
     * Writes an untagged Ethernet II header at absolute {@code index} of a buffer the caller owns.
     *
     * @return the number of bytes written, {@link #HEADER_LENGTH}
     */
    public static int writeHeader(ByteBuf buf, int index, long destination, long source, int etherType) {
        MacAddress.write(buf, index + DESTINATION, destination);
        MacAddress.write(buf, index + SOURCE, source);
        buf.setShort(index + TYPE, etherType);
        return HEADER_LENGTH;
    }
}
