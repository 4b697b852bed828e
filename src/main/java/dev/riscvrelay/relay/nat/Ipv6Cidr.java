package dev.riscvrelay.relay.nat;

import dev.riscvrelay.relay.wire.Ipv6Address;

/**
 * An IPv6 prefix such as {@code 2001:db8::/32}, in the two halves views read addresses in; host bits are cleared.
 *
 * @param high the prefix's first address, high 64 bits
 * @param low the prefix's first address, low 64 bits
 * @param prefixLength 0..128
 */
public record Ipv6Cidr(long high, long low, int prefixLength) {

    public Ipv6Cidr {
        if (prefixLength < 0 || prefixLength > 128) {
            throw new IllegalArgumentException("prefix length must be 0..128: " + prefixLength);
        }
        high &= highMask(prefixLength);
        low &= lowMask(prefixLength);
    }

    /** Parses {@code "2001:db8::/32"}, or a bare address as a /128. Host bits after the prefix are cleared. */
    public static Ipv6Cidr parse(String text) {
        int slash = text.indexOf('/');
        String address = slash < 0 ? text : text.substring(0, slash);
        int length = 128;
        if (slash >= 0) {
            try {
                length = Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an IPv6 prefix (2001:db8::/32): " + text, e);
            }
        }
        long[] parsed = Ipv6Address.parse(address);
        return new Ipv6Cidr(parsed[0], parsed[1], length);
    }

    public long highMask() {
        return highMask(prefixLength);
    }

    public long lowMask() {
        return lowMask(prefixLength);
    }

    public boolean contains(long addressHigh, long addressLow) {
        return (addressHigh & highMask()) == high && (addressLow & lowMask()) == low;
    }

    static long highMask(int prefixLength) {
        return prefixLength == 0 ? 0 : prefixLength >= 64 ? -1L : -1L << (64 - prefixLength);
    }

    static long lowMask(int prefixLength) {
        return prefixLength <= 64 ? 0 : prefixLength == 128 ? -1L : -1L << (128 - prefixLength);
    }

    @Override
    public String toString() {
        return Ipv6Address.format(high, low) + "/" + prefixLength;
    }
}
