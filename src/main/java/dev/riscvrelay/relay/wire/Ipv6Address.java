package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * IPv6 addresses as two {@code long}s, the high 64 bits (the prefix of a /64) and the low 64 bits (the interface
 * identifier), as views read them: no objects per packet. Parsing and formatting are for configuration and logs.
 */
public final class Ipv6Address {

    public static final int LENGTH = 16;

    /** fe80::/64, the link-local prefix (RFC 4291 section 2.5.6). */
    public static final long LINK_LOCAL_PREFIX = 0xFE80_0000_0000_0000L;
    /** The high half of ff02::/16 link-scope multicast groups such as all-nodes and solicited-node. */
    public static final long LINK_SCOPE_MULTICAST_HIGH = 0xFF02_0000_0000_0000L;
    /** ff02::1, all nodes (RFC 4291 section 2.7.1): the low half. */
    public static final long ALL_NODES_LOW = 1;
    /** ff02::2, all routers: the low half. */
    public static final long ALL_ROUTERS_LOW = 2;
    /** ff02::1:ff00:0/104, solicited-node groups: the low half before the address's last 24 bits. */
    private static final long SOLICITED_NODE_LOW = 0x0000_0001_FF00_0000L;
    /** ::ffff:0:0/96, IPv4-mapped addresses (RFC 4291 section 2.5.5.2): the low half before the IPv4 address. */
    public static final long IPV4_MAPPED_LOW = 0xFFFF_0000_0000L;
    /** 33:33:00:00:00:00, the MAC prefix IPv6 multicast maps to (RFC 2464 section 7). */
    private static final long MULTICAST_MAC_PREFIX = 0x3333_0000_0000L;

    private Ipv6Address() {
    }

    public static long readHigh(ByteBuf buf, int index) {
        return buf.getLong(index);
    }

    public static long readLow(ByteBuf buf, int index) {
        return buf.getLong(index + 8);
    }

    public static void write(ByteBuf buf, int index, long high, long low) {
        buf.setLong(index, high);
        buf.setLong(index + 8, low);
    }

    /** True for ff00::/8. */
    public static boolean isMulticast(long high) {
        return (high >>> 56) == 0xFF;
    }

    /** True for ::. */
    public static boolean isUnspecified(long high, long low) {
        return high == 0 && low == 0;
    }

    /** True for fe80::/10. */
    public static boolean isLinkLocal(long high) {
        return (high >>> 54) == (0xFE80L >>> 6);
    }

    /**
     * The modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A): ff:fe in the middle, the
     * universal/local bit inverted. 52:54:00:12:34:56 gives 5054:ff:fe12:3456.
     */
    public static long interfaceIdentifier(long mac) {
        long upper = (mac >>> 24) & 0xFF_FFFFL;
        long lower = mac & 0xFF_FFFFL;
        return ((upper << 40) | 0xFF_FE00_0000L | lower) ^ 0x0200_0000_0000_0000L;
    }

    /** The low half of the solicited-node group of an address with low half {@code low} (RFC 4291 section 2.7.1). */
    public static long solicitedNodeLow(long low) {
        return SOLICITED_NODE_LOW | (low & 0xFF_FFFFL);
    }

    /** The MAC a multicast group's frames go to: 33:33 and its last 32 bits (RFC 2464 section 7). */
    public static long multicastMac(long low) {
        return MULTICAST_MAC_PREFIX | (low & 0xFFFF_FFFFL);
    }

    /** True for 33:33:xx:xx:xx:xx, the MACs of IPv6 multicast. */
    public static boolean isMulticastMac(long mac) {
        return (mac >>> 32) == 0x3333L;
    }

    /**
     * Parses IPv6 text such as {@code "fd00:10:0:2::2"} into {high, low} (no name lookup: literals only).
     *
     * @throws IllegalArgumentException when the text is not an IPv6 address
     */
    public static long[] parse(String text) {
        if (text.indexOf(':') < 0 || text.indexOf('%') >= 0 || text.startsWith("[")) {
            throw new IllegalArgumentException("not an IPv6 address: " + text);
        }
        try {
            InetAddress address = InetAddress.ofLiteral(text);
            byte[] bytes = address.getAddress();
            if (address instanceof Inet6Address) {
                return new long[] {toLong(bytes, 0), toLong(bytes, 8)};
            }
            // The JDK turns an IPv4-mapped literal (::ffff:a.b.c.d) into its IPv4 address: map it back.
            return new long[] {0, IPV4_MAPPED_LOW | (Integer.toUnsignedLong(java.nio.ByteBuffer.wrap(bytes).getInt()))};
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not an IPv6 address: " + text, e);
        }
    }

    /** RFC 5952 text: lowercase, leading zeros dropped, the longest run of two or more zero groups as {@code ::}. */
    public static String format(long high, long low) {
        int[] groups = new int[8];
        for (int i = 0; i < 4; i++) {
            groups[i] = (int) (high >>> (48 - 16 * i)) & 0xFFFF;
            groups[i + 4] = (int) (low >>> (48 - 16 * i)) & 0xFFFF;
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder text = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }

    /** The address as a JDK {@link InetAddress}, for opening host sockets to it (no name lookup). */
    public static InetAddress toInetAddress(long high, long low) {
        byte[] bytes = new byte[LENGTH];
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (high >>> (56 - 8 * i));
            bytes[i + 8] = (byte) (low >>> (56 - 8 * i));
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError("sixteen bytes are always an IPv6 address", e);
        }
    }

    private static long toLong(byte[] bytes, int from) {
        long value = 0;
        for (int i = from; i < from + 8; i++) {
            value = (value << 8) | (bytes[i] & 0xFF);
        }
        return value;
    }
}
