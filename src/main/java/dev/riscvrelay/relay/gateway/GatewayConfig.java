package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.MacAddress;

/**
 * Where the gateway sits on the virtual LAN. The defaults are the 10.0.2.0/24 conventions users know from QEMU's
 * user networking (libslirp): router 10.0.2.2, DNS 10.0.2.3.
 *
 * @param mac the gateway's MAC (48 bits in a long), unicast
 * @param address the gateway's IPv4 address (answers ARP and ping)
 * @param dnsAddress the DNS server address guests are told about (answers ARP, DNS over UDP and TCP)
 * @param network the LAN's network address
 * @param prefixLength the LAN's prefix length, 8..30
 * @param replyHeadroom bytes left free before each frame the gateway builds, so a transport can write its
 *     datagram prefix there without copying (a QUIC varint needs at most 8)
 */
public record GatewayConfig(long mac, int address, int dnsAddress, int network, int prefixLength,
        int replyHeadroom) {

    public static final long DEFAULT_MAC = 0x5254_0012_3456L;
    public static final int DEFAULT_ADDRESS = 0x0A00_0202;
    public static final int DEFAULT_DNS_ADDRESS = 0x0A00_0203;
    public static final int DEFAULT_NETWORK = 0x0A00_0200;
    public static final int DEFAULT_PREFIX_LENGTH = 24;
    public static final int DEFAULT_REPLY_HEADROOM = 8;

    public GatewayConfig {
        if ((mac & ~0xFFFF_FFFF_FFFFL) != 0 || MacAddress.isMulticast(mac) || mac == 0) {
            throw new IllegalArgumentException("gateway MAC must be a unicast address: " + MacAddress.format(mac));
        }
        if (prefixLength < 8 || prefixLength > 30) {
            throw new IllegalArgumentException("prefix length must be 8..30: " + prefixLength);
        }
        int mask = mask(prefixLength);
        if ((network & ~mask) != 0) {
            throw new IllegalArgumentException("network " + Ipv4Address.format(network) + "/" + prefixLength
                    + " has host bits set");
        }
        for (int host : new int[] {address, dnsAddress}) {
            if ((host & mask) != network || host == network || host == (network | ~mask)) {
                throw new IllegalArgumentException(Ipv4Address.format(host) + " is not a host address of "
                        + Ipv4Address.format(network) + "/" + prefixLength);
            }
        }
        if (address == dnsAddress) {
            throw new IllegalArgumentException("gateway and DNS addresses must differ: " + Ipv4Address.format(address));
        }
        if (replyHeadroom < 0 || replyHeadroom > 64) {
            throw new IllegalArgumentException("reply headroom must be 0..64 bytes: " + replyHeadroom);
        }
    }

    /** 52:54:00:12:34:56 at 10.0.2.2, DNS 10.0.2.3, network 10.0.2.0/24, 8 bytes of headroom. */
    public static GatewayConfig defaults() {
        return new GatewayConfig(DEFAULT_MAC, DEFAULT_ADDRESS, DEFAULT_DNS_ADDRESS, DEFAULT_NETWORK,
                DEFAULT_PREFIX_LENGTH, DEFAULT_REPLY_HEADROOM);
    }

    public int netmask() {
        return mask(prefixLength);
    }

    /** The directed broadcast address of the LAN, e.g. 10.0.2.255. */
    public int broadcastAddress() {
        return network | ~netmask();
    }

    public boolean inNetwork(int address) {
        return (address & netmask()) == network;
    }

    /** True for addresses the gateway itself answers: its own and the DNS address. */
    public boolean isGatewayAddress(int address) {
        return address == this.address || address == dnsAddress;
    }

    private static int mask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    @Override
    public String toString() {
        return "GatewayConfig[mac=" + MacAddress.format(mac) + ", address=" + Ipv4Address.format(address)
                + ", dnsAddress=" + Ipv4Address.format(dnsAddress) + ", network=" + Ipv4Address.format(network)
                + "/" + prefixLength + ", replyHeadroom=" + replyHeadroom + "]";
    }
}
