package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;

/**
 * 48-bit MAC addresses packed into the low bits of a {@code long} (first octet in bits 47..40), so the switch and
 * views handle them without objects. Parsing and formatting are for configuration and logs only.
 */
public final class MacAddress {

    public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;
    public static final int LENGTH = 6;

    private static final long MASK = 0xFFFF_FFFF_FFFFL;
    /** The I/G bit: least significant bit of the first octet (IEEE 802-2014 section 8.2). */
    private static final long GROUP_BIT = 1L << 40;

    private MacAddress() {
    }

    public static boolean isBroadcast(long mac) {
        return mac == BROADCAST;
    }

    /** True for every group address, broadcast included. */
    public static boolean isMulticast(long mac) {
        return (mac & GROUP_BIT) != 0;
    }

    /** True when {@code mac} may appear as a frame's source: individual and not 00:00:00:00:00:00. */
    public static boolean isValidSource(long mac) {
        return mac != 0 && !isMulticast(mac);
    }

    /** Reads the six octets at absolute {@code index} (network order) without moving the buffer's indices. */
    public static long read(ByteBuf buf, int index) {
        return ((long) buf.getUnsignedShort(index) << 32) | buf.getUnsignedInt(index + 2);
    }

    /** Reads the six octets at {@code index} of {@code bytes} (network order). */
    public static long read(byte[] bytes, int index) {
        long mac = 0;
        for (int i = 0; i < LENGTH; i++) {
            mac = (mac << 8) | (bytes[index + i] & 0xFF);
        }
        return mac;
    }

    public static void write(ByteBuf buf, int index, long mac) {
        buf.setShort(index, (int) (mac >>> 32));
        buf.setInt(index + 2, (int) mac);
    }

    /**
     * Parses {@code "52:54:00:12:34:56"} (also with {@code '-'} separators).
     *
     * @throws IllegalArgumentException when the text is not six hex octets
     */
    public static long parse(String text) {
        if (text.length() != 17) {
            throw new IllegalArgumentException("not a MAC address (aa:bb:cc:dd:ee:ff): " + text);
        }
        long mac = 0;
        for (int octet = 0; octet < 6; octet++) {
            int at = octet * 3;
            if (octet > 0 && text.charAt(at - 1) != ':' && text.charAt(at - 1) != '-') {
                throw new IllegalArgumentException("not a MAC address (aa:bb:cc:dd:ee:ff): " + text);
            }
            int high = Character.digit(text.charAt(at), 16);
            int low = Character.digit(text.charAt(at + 1), 16);
            if (high < 0 || low < 0) {
                throw new IllegalArgumentException("not a MAC address (aa:bb:cc:dd:ee:ff): " + text);
            }
            mac = (mac << 8) | (high << 4) | low;
        }
        return mac;
    }

    /** Formats as lowercase {@code "52:54:00:12:34:56"}. */
    public static String format(long mac) {
        StringBuilder text = new StringBuilder(17);
        for (int shift = 40; shift >= 0; shift -= 8) {
            int octet = (int) ((mac & MASK) >>> shift) & 0xFF;
            if (shift != 40) {
                text.append(':');
            }
            text.append(Character.forDigit(octet >>> 4, 16)).append(Character.forDigit(octet & 0xF, 16));
        }
        return text.toString();
    }
}
