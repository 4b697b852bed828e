package dev.riscvrelay.relay.gateway.dhcp;

import dev.riscvrelay.relay.wire.Ipv4Address;
import java.time.Duration;

/**
 * What the gateway's DHCP server hands out. The defaults follow QEMU's user networking (libslirp): leases from
 * 10.0.2.15 in 10.0.2.0/24, router and DNS are the gateway's addresses.
 *
 * @param network the LAN's network address; must be the gateway's
 * @param prefixLength the LAN's prefix length; must be the gateway's
 * @param firstAddress the first address leased
 * @param poolSize how many consecutive addresses from {@code firstAddress} may be leased (1..{@value #MAX_POOL_SIZE})
 * @param lanMtu the interface MTU told to clients (option 26): the largest IP packet one LAN frame carries
 * @param leaseTime how long a lease lasts (option 51); renewal T1 is half of it and rebinding T2 seven eighths
 *     (RFC 2131 section 4.4.5)
 * @param offerHoldTime how long an offered address stays reserved for the client it was offered to
 */
public record DhcpConfig(int network, int prefixLength, int firstAddress, int poolSize, int lanMtu,
        Duration leaseTime, Duration offerHoldTime) {

    public static final int DEFAULT_FIRST_ADDRESS = 0x0A00_020F;
    /** 10.0.2.15 .. 10.0.2.254. */
    public static final int DEFAULT_POOL_SIZE = 240;
    public static final int MAX_POOL_SIZE = 65_536;
    /**
     * One 1199-byte browser WebTransport datagram carries one Ethernet frame; minus the 14-byte Ethernet header
     * leaves 1185 bytes of IP packet.
     */
    public static final int DEFAULT_LAN_MTU = 1185;
    /** RFC 791: every host must accept 576-byte datagrams; RFC 2132 section 5.1: option 26 is at least 68. */
    public static final int MIN_LAN_MTU = 576;
    public static final Duration DEFAULT_LEASE_TIME = Duration.ofHours(1);
    public static final Duration DEFAULT_OFFER_HOLD_TIME = Duration.ofSeconds(60);

    public DhcpConfig {
        if (prefixLength < 8 || prefixLength > 30) {
            throw new IllegalArgumentException("prefix length must be 8..30: " + prefixLength);
        }
        int mask = -1 << (32 - prefixLength);
        if ((network & ~mask) != 0) {
            throw new IllegalArgumentException("network " + Ipv4Address.format(network) + " has host bits set");
        }
        if (poolSize < 1 || poolSize > MAX_POOL_SIZE) {
            throw new IllegalArgumentException("pool size must be 1.." + MAX_POOL_SIZE + ": " + poolSize);
        }
        int lastAddress = firstAddress + poolSize - 1;
        int broadcast = network | ~mask;
        if ((firstAddress & mask) != network || (lastAddress & mask) != network || firstAddress == network
                || Integer.compareUnsigned(lastAddress, broadcast) >= 0
                || Integer.compareUnsigned(lastAddress, firstAddress) < 0) {
            throw new IllegalArgumentException("pool " + Ipv4Address.format(firstAddress) + " + " + poolSize
                    + " addresses does not fit the host addresses of " + Ipv4Address.format(network) + "/"
                    + prefixLength);
        }
        if (lanMtu < MIN_LAN_MTU || lanMtu > 65_535) {
            throw new IllegalArgumentException("LAN MTU must be " + MIN_LAN_MTU + "..65535: " + lanMtu);
        }
        if (leaseTime == null || leaseTime.toSeconds() < 60 || leaseTime.toSeconds() > 0xFFFF_FFFEL) {
            throw new IllegalArgumentException("lease time must be 60 s .. 2^32-2 s: " + leaseTime);
        }
        if (offerHoldTime == null || offerHoldTime.isNegative() || offerHoldTime.isZero()) {
            throw new IllegalArgumentException("offer hold time must be positive: " + offerHoldTime);
        }
    }

    /** 10.0.2.15 .. 10.0.2.254 in 10.0.2.0/24, MTU 1185, one-hour leases, offers held 60 s. */
    public static DhcpConfig defaults() {
        return new DhcpConfig(0x0A00_0200, 24, DEFAULT_FIRST_ADDRESS, DEFAULT_POOL_SIZE, DEFAULT_LAN_MTU,
                DEFAULT_LEASE_TIME, DEFAULT_OFFER_HOLD_TIME);
    }

    public DhcpConfig withPool(int first, int size) {
        return new DhcpConfig(network, prefixLength, first, size, lanMtu, leaseTime, offerHoldTime);
    }

    public DhcpConfig withLanMtu(int mtu) {
        return new DhcpConfig(network, prefixLength, firstAddress, poolSize, mtu, leaseTime, offerHoldTime);
    }

    public DhcpConfig withLeaseTime(Duration time) {
        return new DhcpConfig(network, prefixLength, firstAddress, poolSize, lanMtu, time, offerHoldTime);
    }

    public int netmask() {
        return -1 << (32 - prefixLength);
    }

    public boolean inPool(int address) {
        return Integer.compareUnsigned(address - firstAddress, poolSize) < 0;
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

    @Override
    public String toString() {
        return "DhcpConfig[network=" + Ipv4Address.format(network) + "/" + prefixLength + ", pool="
                + Ipv4Address.format(firstAddress) + "+" + poolSize + ", lanMtu=" + lanMtu + ", leaseTime="
                + leaseTime + ", offerHoldTime=" + offerHoldTime + "]";
    }
}
