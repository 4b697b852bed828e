package dev.riscvrelay.relay.wire;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * IPv4 addresses as {@code int}s in network order (first octet in the high byte), as views read them. Parsing and
 * formatting are for configuration and logs only.
 */
public final class Ipv4Address {

    public static final int BROADCAST = 0xFFFF_FFFF;

    private Ipv4Address() {
    }

    /**
     * Parses dotted-quad text such as {@code "10.0.2.2"}.
     *
     * @throws IllegalArgumentException when the text is not four decimal octets 0..255
     */
    public static int parse(String text) {
        int address = 0;
        int octets = 0;
        int value = -1;
        for (int i = 0; i <= text.length(); i++) {
            char c = i < text.length() ? text.charAt(i) : '.';
            if (c == '.') {
                if (value < 0 || ++octets > 4) {
                    throw new IllegalArgumentException("not an IPv4 address (a.b.c.d): " + text);
                }
                address = (address << 8) | value;
                value = -1;
            } else if (c >= '0' && c <= '9' && value != 0) {
                value = (value < 0 ? 0 : value * 10) + (c - '0');
                if (value > 255) {
                    throw new IllegalArgumentException("not an IPv4 address (octet above 255): " + text);
                }
            } else {
                // a non-digit, or a digit after a leading zero (octal-looking "010" is refused, not guessed)
                throw new IllegalArgumentException("not an IPv4 address (a.b.c.d): " + text);
            }
        }
        if (octets != 4) {
            throw new IllegalArgumentException("not an IPv4 address (a.b.c.d): " + text);
        }
        return address;
    }

    public static String format(int address) {
        return (address >>> 24) + "." + ((address >>> 16) & 0xFF) + "." + ((address >>> 8) & 0xFF) + "."
                + (address & 0xFF);
    }

    /** The address as a JDK {@link InetAddress}, for opening host sockets to it (no name lookup). */
    public static InetAddress toInetAddress(int address) {
        try {
            return InetAddress.getByAddress(new byte[] {
                (byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address});
        } catch (UnknownHostException e) {
            throw new AssertionError("four bytes are always an IPv4 address", e);
        }
    }

    /** True for 224.0.0.0/4 (RFC 5771). */
    public static boolean isMulticast(int address) {
        return (address >>> 28) == 0xE;
    }
}
