package dev.riscvrelay.relay.nat;

import dev.riscvrelay.relay.wire.Ipv4Address;

/**
 * An IPv4 prefix such as {@code 10.0.0.0/8}; the address is stored with its host bits cleared.
 *
 * @param network the prefix's first address, in network order as an int
 * @param prefixLength 0..32
 */
public record Cidr(int network, int prefixLength) {

    public Cidr {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length must be 0..32: " + prefixLength);
        }
        network &= mask(prefixLength);
    }

    /** Parses {@code "a.b.c.d/n"}, or a bare address as a /32. Host bits after the prefix are cleared. */
    public static Cidr parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            return new Cidr(Ipv4Address.parse(text), 32);
        }
        int length;
        try {
            length = Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an IPv4 prefix (a.b.c.d/n): " + text, e);
        }
        return new Cidr(Ipv4Address.parse(text.substring(0, slash)), length);
    }

    public int mask() {
        return mask(prefixLength);
    }

    public boolean contains(int address) {
        return (address & mask()) == network;
    }

    static int mask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    @Override
    public String toString() {
        return Ipv4Address.format(network) + "/" + prefixLength;
    }
}
