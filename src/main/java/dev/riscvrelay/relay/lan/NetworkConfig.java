package dev.riscvrelay.relay.lan;

import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.MacAddress;
import java.time.Duration;

/**
 * One virtual LAN as its parts see it: the switch, the gateway, its DHCP server and DNS forwarder and the NAT all
 * read this one record (as smoltcp's interfaces read one interface config), so no number has two defaults. The
 * defaults are the 10.0.2.0/24 conventions users know from QEMU's user networking (libslirp): router 10.0.2.2,
 * DNS 10.0.2.3, leases from 10.0.2.15.
 *
 * @param network the LAN's network address
 * @param prefixLength the LAN's prefix length, 8..30
 * @param gatewayMac the gateway's MAC (48 bits in a long), unicast: the source of every frame the gateway and the
 *     NAT build
 * @param gatewayAddress the gateway's IPv4 address (answers ARP and ping; the router DHCP hands out; the source of
 *     the errors the NAT reports itself)
 * @param dnsAddress the DNS server address guests are told about (answers ARP, DNS over UDP and TCP)
 * @param mtu the largest IPv4 packet one LAN frame carries: told to guests by DHCP (option 26), the limit of what
 *     the gateway, the DNS forwarder and the NAT send them, and the MSS the TCP NAT offers
 * @param frameHeadroom bytes left free before each frame the gateway and the NAT build, so a transport can write
 *     its datagram prefix there without copying
 * @param dhcpFirstAddress the first address DHCP leases
 * @param dhcpPoolSize how many consecutive addresses from {@code dhcpFirstAddress} may be leased
 *     (1..{@value #MAX_POOL_SIZE})
 * @param leaseTime how long a lease lasts (option 51); renewal T1 is half of it and rebinding T2 seven eighths
 *     (RFC 2131 section 4.4.5)
 * @param offerHoldTime how long an offered address stays reserved for the client it was offered to
 * @param macTableCapacity the most MAC addresses the switch remembers; when full, new sources are not learned (and
 *     counted) and frames to them are flooded
 * @param macAgingTime how long a learned MAC stays after it was last seen as a source
 * @param ipv6Prefix the LAN's IPv6 /64 (its high 64 bits), announced in router advertisements for SLAAC: the
 *     gateway is host ::2 in it, the DNS forwarder host ::3, and the gateway's link-local address is fe80:: with
 *     the modified EUI-64 of its MAC
 */
public record NetworkConfig(
        int network,
        int prefixLength,
        long gatewayMac,
        int gatewayAddress,
        int dnsAddress,
        int mtu,
        int frameHeadroom,
        int dhcpFirstAddress,
        int dhcpPoolSize,
        Duration leaseTime,
        Duration offerHoldTime,
        int macTableCapacity,
        Duration macAgingTime,
        long ipv6Prefix) {

    /** 10.0.2.0/24. */
    public static final int DEFAULT_NETWORK = 0x0A00_0200;
    public static final int DEFAULT_PREFIX_LENGTH = 24;
    /** 52:54:00:12:34:56, the address VMs know from QEMU's user-mode network. */
    public static final long DEFAULT_GATEWAY_MAC = 0x5254_0012_3456L;
    /** 10.0.2.2. */
    public static final int DEFAULT_GATEWAY_ADDRESS = 0x0A00_0202;
    /** 10.0.2.3. */
    public static final int DEFAULT_DNS_ADDRESS = 0x0A00_0203;
    /**
     * Chromium carries at most 1199 bytes in one WebTransport datagram: one Ethernet frame of 1199 bytes, an IP
     * packet of 1185. Every browser VM on the LAN must be able to receive what the gateway sends.
     */
    public static final int DEFAULT_MTU = 1185;
    /** RFC 791: every host must accept 576-byte datagrams; RFC 2132 section 5.1: option 26 is at least 68. */
    public static final int MIN_MTU = 576;
    public static final int MAX_MTU = 65_535;
    /** The largest prefix a transport writes in front of a frame: a QUIC varint (an HTTP datagram's stream id). */
    public static final int DEFAULT_FRAME_HEADROOM = 8;
    public static final int MAX_FRAME_HEADROOM = 64;
    /** 10.0.2.15. */
    public static final int DEFAULT_DHCP_FIRST_ADDRESS = 0x0A00_020F;
    /** 10.0.2.15 .. 10.0.2.254. */
    public static final int DEFAULT_DHCP_POOL_SIZE = 240;
    public static final int MAX_POOL_SIZE = 65_536;
    public static final Duration DEFAULT_LEASE_TIME = Duration.ofHours(1);
    public static final Duration DEFAULT_OFFER_HOLD_TIME = Duration.ofSeconds(60);
    public static final int DEFAULT_MAC_TABLE_CAPACITY = 4096;
    /** The largest MAC table accepted: its slot arrays then take about 40 MiB. */
    public static final int MAX_MAC_TABLE_CAPACITY = 1 << 20;
    /** The ageing time IEEE 802.1D/802.1Q bridges use by default. */
    public static final Duration DEFAULT_MAC_AGING_TIME = Duration.ofSeconds(300);
    /**
     * fd00:10:0:2::/64, a unique local prefix (RFC 4193) that reads like 10.0.2.0/24: the gateway is
     * fd00:10:0:2::2 as it is 10.0.2.2. Fixed rather than random, since the LAN is behind the relay's NAT and its
     * addresses are never routed elsewhere.
     */
    public static final long DEFAULT_IPV6_PREFIX = 0xFD00_0010_0000_0002L;
    /** The gateway's host part in the IPv6 prefix, as it is host 2 in the IPv4 subnet. */
    public static final long GATEWAY_IPV6_HOST = 2;
    /** The DNS forwarder's host part in the IPv6 prefix. */
    public static final long DNS_IPV6_HOST = 3;
    /** RFC 8200 section 5: every IPv6 link carries packets of 1280 bytes. */
    public static final int IPV6_MIN_MTU = 1280;

    public NetworkConfig {
        if (prefixLength < 8 || prefixLength > 30) {
            throw new IllegalArgumentException("prefix length must be 8..30: " + prefixLength);
        }
        int mask = mask(prefixLength);
        if ((network & ~mask) != 0) {
            throw new IllegalArgumentException("network " + Ipv4Address.format(network) + "/" + prefixLength
                    + " has host bits set");
        }
        if ((gatewayMac & ~0xFFFF_FFFF_FFFFL) != 0 || MacAddress.isMulticast(gatewayMac) || gatewayMac == 0) {
            throw new IllegalArgumentException("gateway MAC must be a unicast address: "
                    + MacAddress.format(gatewayMac));
        }
        for (int host : new int[] {gatewayAddress, dnsAddress}) {
            if ((host & mask) != network || host == network || host == (network | ~mask)) {
                throw new IllegalArgumentException(Ipv4Address.format(host) + " is not a host address of "
                        + Ipv4Address.format(network) + "/" + prefixLength);
            }
        }
        if (gatewayAddress == dnsAddress) {
            throw new IllegalArgumentException("gateway and DNS addresses must differ: "
                    + Ipv4Address.format(gatewayAddress));
        }
        if (mtu < MIN_MTU || mtu > MAX_MTU) {
            throw new IllegalArgumentException("LAN MTU must be " + MIN_MTU + ".." + MAX_MTU + ": " + mtu);
        }
        if (frameHeadroom < 0 || frameHeadroom > MAX_FRAME_HEADROOM) {
            throw new IllegalArgumentException("frame headroom must be 0.." + MAX_FRAME_HEADROOM + " bytes: "
                    + frameHeadroom);
        }
        checkPool(network, prefixLength, dhcpFirstAddress, dhcpPoolSize, gatewayAddress, dnsAddress);
        if (leaseTime == null || leaseTime.toSeconds() < 60 || leaseTime.toSeconds() > 0xFFFF_FFFEL) {
            throw new IllegalArgumentException("lease time must be 60 s .. 2^32-2 s: " + leaseTime);
        }
        if (offerHoldTime == null || offerHoldTime.isNegative() || offerHoldTime.isZero()) {
            throw new IllegalArgumentException("offer hold time must be positive: " + offerHoldTime);
        }
        if (macTableCapacity < 1 || macTableCapacity > MAX_MAC_TABLE_CAPACITY) {
            throw new IllegalArgumentException("MAC table capacity must be in 1.." + MAX_MAC_TABLE_CAPACITY + ": "
                    + macTableCapacity);
        }
        if (macAgingTime == null || macAgingTime.isNegative() || macAgingTime.isZero()) {
            throw new IllegalArgumentException("MAC ageing time must be positive: " + macAgingTime);
        }
        checkIpv6Prefix(ipv6Prefix);
    }

    /**
     * 52:54:00:12:34:56 at 10.0.2.2 in 10.0.2.0/24, DNS 10.0.2.3, MTU 1185, 8 bytes of headroom, one-hour leases
     * from 10.0.2.15 to 10.0.2.254 (offers held 60 s), 4096 MACs aged after 300 s.
     */
    public static NetworkConfig defaults() {
        return new NetworkConfig(DEFAULT_NETWORK, DEFAULT_PREFIX_LENGTH, DEFAULT_GATEWAY_MAC, DEFAULT_GATEWAY_ADDRESS,
                DEFAULT_DNS_ADDRESS, DEFAULT_MTU, DEFAULT_FRAME_HEADROOM, DEFAULT_DHCP_FIRST_ADDRESS,
                DEFAULT_DHCP_POOL_SIZE, DEFAULT_LEASE_TIME, DEFAULT_OFFER_HOLD_TIME, DEFAULT_MAC_TABLE_CAPACITY,
                DEFAULT_MAC_AGING_TIME, DEFAULT_IPV6_PREFIX);
    }

    /** The first address leased: the 15th host, as in 10.0.2.15, in every subnet. */
    public static final int POOL_START_OFFSET = 15;
    /** The longest prefix {@link #withSubnet} takes: a /27 still leaves 16 addresses to lease. */
    public static final int MAX_SUBNET_PREFIX_LENGTH = 27;

    /**
     * The same conventions in another subnet: router at host 2, DNS at host 3, leases from host 15 to the last host
     * before the broadcast address (at most {@value #MAX_POOL_SIZE} of them). E.g. 10.0.0.0/16: router 10.0.0.2, DNS
     * 10.0.0.3, leases 10.0.0.15 .. 10.0.255.254, room for 65,520 VMs.
     */
    public NetworkConfig withSubnet(int subnet, int length) {
        if (length < 8 || length > MAX_SUBNET_PREFIX_LENGTH) {
            throw new IllegalArgumentException("a LAN's prefix length must be 8.." + MAX_SUBNET_PREFIX_LENGTH + ": /"
                    + length);
        }
        int broadcast = subnet | ~mask(length);
        int first = subnet + POOL_START_OFFSET;
        int size = (int) Math.min(MAX_POOL_SIZE, Integer.toUnsignedLong(broadcast - first));
        return new NetworkConfig(subnet, length, gatewayMac, subnet + 2, subnet + 3, mtu, frameHeadroom, first, size,
                leaseTime, offerHoldTime, macTableCapacity, macAgingTime, ipv6Prefix);
    }

    public NetworkConfig withMtu(int value) {
        return new NetworkConfig(network, prefixLength, gatewayMac, gatewayAddress, dnsAddress, value,
                frameHeadroom, dhcpFirstAddress, dhcpPoolSize, leaseTime, offerHoldTime, macTableCapacity,
                macAgingTime, ipv6Prefix);
    }

    public NetworkConfig withPool(int first, int size) {
        return new NetworkConfig(network, prefixLength, gatewayMac, gatewayAddress, dnsAddress, mtu, frameHeadroom,
                first, size, leaseTime, offerHoldTime, macTableCapacity, macAgingTime, ipv6Prefix);
    }

    public NetworkConfig withLeaseTime(Duration value) {
        return new NetworkConfig(network, prefixLength, gatewayMac, gatewayAddress, dnsAddress, mtu, frameHeadroom,
                dhcpFirstAddress, dhcpPoolSize, value, offerHoldTime, macTableCapacity, macAgingTime, ipv6Prefix);
    }

    public NetworkConfig withMacTable(int capacity, Duration agingTime) {
        return new NetworkConfig(network, prefixLength, gatewayMac, gatewayAddress, dnsAddress, mtu, frameHeadroom,
                dhcpFirstAddress, dhcpPoolSize, leaseTime, offerHoldTime, capacity, agingTime, ipv6Prefix);
    }

    /** The same LAN with another IPv6 /64 (its high 64 bits). */
    public NetworkConfig withIpv6Prefix(long prefix) {
        return new NetworkConfig(network, prefixLength, gatewayMac, gatewayAddress, dnsAddress, mtu, frameHeadroom,
                dhcpFirstAddress, dhcpPoolSize, leaseTime, offerHoldTime, macTableCapacity, macAgingTime, prefix);
    }

    /** The gateway's global IPv6 address (low half; the high half is {@link #ipv6Prefix()}). */
    public long gatewayIpv6Low() {
        return GATEWAY_IPV6_HOST;
    }

    /** The DNS forwarder's IPv6 address (low half; the high half is {@link #ipv6Prefix()}). */
    public long dnsIpv6Low() {
        return DNS_IPV6_HOST;
    }

    /** The gateway's link-local address (low half; the high half is fe80::): the modified EUI-64 of its MAC. */
    public long gatewayLinkLocalLow() {
        return Ipv6Address.interfaceIdentifier(gatewayMac);
    }

    /** True for the IPv6 addresses the gateway answers: its link-local and global addresses and the DNS address. */
    public boolean isGatewayIpv6Address(long high, long low) {
        return high == ipv6Prefix ? low == GATEWAY_IPV6_HOST || low == DNS_IPV6_HOST
                : high == Ipv6Address.LINK_LOCAL_PREFIX && low == gatewayLinkLocalLow();
    }

    /**
     * The link MTU router advertisements announce: the LAN MTU, raised to IPv6's minimum of 1280 when below it
     * (a host disables IPv6 on a smaller link). The gateway's own IPv6 packets still stay within {@link #mtu()}.
     */
    public int ipv6Mtu() {
        return Math.max(mtu, IPV6_MIN_MTU);
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
        return address == gatewayAddress || address == dnsAddress;
    }

    public boolean inPool(int address) {
        return Integer.compareUnsigned(address - dhcpFirstAddress, dhcpPoolSize) < 0;
    }

    /** Lease time in seconds (option 51). */
    public int leaseSeconds() {
        return (int) leaseTime.toSeconds();
    }

    /** T1, option 58: RFC 2131 section 4.4.5 default of half the lease. */
    public int renewalSeconds() {
        return (int) (leaseTime.toSeconds() / 2);
    }

    /** T2, option 59: RFC 2131 section 4.4.5 default of seven eighths of the lease. */
    public int rebindingSeconds() {
        return (int) (leaseTime.toSeconds() * 7 / 8);
    }

    private static void checkPool(int network, int prefixLength, int first, int size, int gateway, int dns) {
        if (size < 1 || size > MAX_POOL_SIZE) {
            throw new IllegalArgumentException("pool size must be 1.." + MAX_POOL_SIZE + ": " + size);
        }
        int mask = mask(prefixLength);
        int last = first + size - 1;
        int broadcast = network | ~mask;
        if ((first & mask) != network || (last & mask) != network || first == network
                || Integer.compareUnsigned(last, broadcast) >= 0 || Integer.compareUnsigned(last, first) < 0) {
            throw new IllegalArgumentException("pool " + Ipv4Address.format(first) + " + " + size
                    + " addresses does not fit the host addresses of " + Ipv4Address.format(network) + "/"
                    + prefixLength);
        }
        for (int taken : new int[] {gateway, dns}) {
            if (Integer.compareUnsigned(taken - first, size) < 0) {
                throw new IllegalArgumentException("DHCP pool " + Ipv4Address.format(first) + " + " + size
                        + " covers the gateway or DNS address " + Ipv4Address.format(taken));
            }
        }
    }

    private static void checkIpv6Prefix(long prefix) {
        if (prefix == 0 || Ipv6Address.isMulticast(prefix) || Ipv6Address.isLinkLocal(prefix)) {
            throw new IllegalArgumentException("IPv6 prefix must be a unicast /64 outside fe80::/10: "
                    + Ipv6Address.format(prefix, 0) + "/64");
        }
    }

    private static int mask(int prefixLength) {
        return -1 << (32 - prefixLength);
    }

    @Override
    public String toString() {
        return "NetworkConfig[network=" + Ipv4Address.format(network) + "/" + prefixLength + ", gatewayMac="
                + MacAddress.format(gatewayMac) + ", gatewayAddress=" + Ipv4Address.format(gatewayAddress)
                + ", dnsAddress=" + Ipv4Address.format(dnsAddress) + ", mtu=" + mtu + ", frameHeadroom="
                + frameHeadroom + ", pool=" + Ipv4Address.format(dhcpFirstAddress) + "+" + dhcpPoolSize
                + ", leaseTime=" + leaseTime + ", offerHoldTime=" + offerHoldTime + ", macTableCapacity="
                + macTableCapacity + ", macAgingTime=" + macAgingTime + ", ipv6Prefix="
                + Ipv6Address.format(ipv6Prefix, 0) + "/64]";
    }
}
