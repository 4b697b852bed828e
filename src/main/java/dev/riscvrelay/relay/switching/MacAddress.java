package dev.riscvrelay.relay.switching;

import io.netty.buffer.ByteBuf;

/**
 * A 48-bit MAC address packed into the low bits of a {@code long} (first octet in bits 47..40), so the switch
 * keys its table without an object per frame.
 */
public final class MacAddress {

    /** ff:ff:ff:ff:ff:ff. */
    public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;

    /** The individual/group bit: the least significant bit of the first octet (the I/G bit of IEEE Std 802). */
    private static final long GROUP_BIT = 1L << 40;

    private MacAddress() {
    }

    /** Reads the six octets at absolute {@code index} (network order) without moving the buffer's indices. */
    public static long read(ByteBuf buf, int index) {
        return ((long) buf.getUnsignedShort(index) << 32) | buf.getUnsignedInt(index + 2);
    }

    /** True for multicast and broadcast addresses: frames to them go to every member. */
    public static boolean isGroup(long mac) {
        return (mac & GROUP_BIT) != 0;
    }

    /** True when {@code mac} may appear as a frame's source: individual and not 00:00:00:00:00:00. */
    public static boolean isValidSource(long mac) {
        return mac != 0 && !isGroup(mac);
    }

    /** Parses {@code "52:54:00:12:34:56"} (or with '-' separators). */
    public static long parse(String text) {
        String[] octets = text.split("[:-]");
        if (octets.length != 6) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        long mac = 0;
        for (String octet : octets) {
            if (octet.length() != 2) {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            mac = (mac << 8) | Integer.parseInt(octet, 16);
        }
        return mac;
    }

    /** Formats as {@code "52:54:00:12:34:56"}, for logs and tests. */
    public static String toString(long mac) {
        StringBuilder text = new StringBuilder(17);
        for (int shift = 40; shift >= 0; shift -= 8) {
            if (shift != 40) {
                text.append(':');
            }
            text.append(Character.forDigit((int) (mac >>> (shift + 4)) & 0xF, 16));
            text.append(Character.forDigit((int) (mac >>> shift) & 0xF, 16));
        }
        return text.toString();
    }
}
