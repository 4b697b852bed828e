package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;

/**
 * A reusable view of an ARP packet for Ethernet and IPv4 (RFC 826), the only kind the LAN carries.
 * {@link #wrap} refuses any other hardware or protocol format.
 */
public final class ArpPacket {

    public static final int LENGTH = 28;
    public static final int OPERATION_REQUEST = 1;
    public static final int OPERATION_REPLY = 2;

    private static final int HARDWARE_TYPE_ETHERNET = 1;

    private static final int HARDWARE_TYPE = 0;
    private static final int PROTOCOL_TYPE = 2;
    private static final int HARDWARE_LENGTH = 4;
    private static final int PROTOCOL_LENGTH = 5;
    private static final int OPERATION = 6;
    private static final int SENDER_MAC = 8;
    private static final int SENDER_IP = 14;
    private static final int TARGET_MAC = 18;
    private static final int TARGET_IP = 24;

    private ByteBuf buf;
    private int offset;

    /** Views {@code length} bytes at absolute {@code offset} (an Ethernet payload, padding allowed) as ARP. */
    public ParseResult wrap(ByteBuf buf, int offset, int length) {
        this.buf = buf;
        this.offset = offset;
        if (length < LENGTH) {
            return ParseResult.TRUNCATED;
        }
        if (buf.getUnsignedShort(offset + HARDWARE_TYPE) != HARDWARE_TYPE_ETHERNET
                || buf.getUnsignedShort(offset + PROTOCOL_TYPE) != EthernetFrame.TYPE_IPV4
                || buf.getUnsignedByte(offset + HARDWARE_LENGTH) != MacAddress.LENGTH
                || buf.getUnsignedByte(offset + PROTOCOL_LENGTH) != 4) {
            return ParseResult.UNSUPPORTED_ARP_FORMAT;
        }
        return ParseResult.OK;
    }

    public int operation() {
        return buf.getUnsignedShort(offset + OPERATION);
    }

    public long senderMac() {
        return MacAddress.read(buf, offset + SENDER_MAC);
    }

    public int senderIp() {
        return buf.getInt(offset + SENDER_IP);
    }

    public long targetMac() {
        return MacAddress.read(buf, offset + TARGET_MAC);
    }

    public int targetIp() {
        return buf.getInt(offset + TARGET_IP);
    }

    /**
     * Writes a whole Ethernet/IPv4 ARP packet at absolute {@code index} of a buffer the caller owns.
     *
     * @return the number of bytes written, {@link #LENGTH}
     */
    public static int write(ByteBuf buf, int index, int operation, long senderMac, int senderIp, long targetMac,
            int targetIp) {
        buf.setShort(index + HARDWARE_TYPE, HARDWARE_TYPE_ETHERNET);
        buf.setShort(index + PROTOCOL_TYPE, EthernetFrame.TYPE_IPV4);
        buf.setByte(index + HARDWARE_LENGTH, MacAddress.LENGTH);
        buf.setByte(index + PROTOCOL_LENGTH, 4);
        buf.setShort(index + OPERATION, operation);
        MacAddress.write(buf, index + SENDER_MAC, senderMac);
        buf.setInt(index + SENDER_IP, senderIp);
        MacAddress.write(buf, index + TARGET_MAC, targetMac);
        buf.setInt(index + TARGET_IP, targetIp);
        return LENGTH;
    }
}
