package dev.riscvrelay.relay.access;

import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import java.util.function.ObjLongConsumer;

/**
 * Checks every frame a session sends before it reaches the switch: the session's rate (two token buckets, frames
 * and bytes), its source MAC (the first {@link SessionLimits#macsPerSession()} it uses are bound to it; others are
 * spoofed) and, once DHCP has leased an address to that MAC, the source IPv4 address of its IPv4 and ARP frames
 * (0.0.0.0 stays allowed: DHCP clients and ARP probes use it). Drops are counted by reason.
 *
 * <p>IPv6 sources are bound to what the frame's MAC may use (RFC 4291 appendix A, RFC 8981, RFC 7217):
 * <ul>
 *   <li>an address whose interface identifier is the modified EUI-64 of the frame's source MAC, under any prefix
 *       (link-local and SLAAC addresses of Linux's default {@code addr_gen_mode=0});
 *   <li>any other unicast address the session used first (stable-privacy, temporary, random or static addresses):
 *       the first session that sends from it, or runs duplicate address detection for it, holds it network-wide
 *       ({@link Ipv6Claims}), up to {@value #IPV6_CLAIMS_PER_SESSION} per session, the oldest given back when a
 *       new one needs room (a guest re-claims one still in use on its next packet). An identifier shaped like a
 *       modified EUI-64 ({@code xx:xxff:fexx:xxxx}) is never claimed by first use, so a session cannot take the
 *       address another MAC derives, even before that MAC joins; nor are the gateway's addresses;
 *   <li>the unspecified address {@code ::} only in a duplicate address detection neighbour solicitation and in MLD
 *       reports (RFC 3590 section 4: sent before the link-local address is ready; Linux sends both at every
 *       interface start).
 * </ul>
 * Beyond the source: a neighbour advertisement's target must be an address the frame's MAC may use (no announcing
 * another's address), router advertisements and redirects never come from a session (RA guard, RFC 6105), and the
 * header chain is walked with bounds ({@link Ipv6Packet#walkExtensionHeaders()}), so an extension header hides
 * none of these; neighbour discovery in a fragment is dropped (RFC 6980).
 *
 * <p>One per session, on the event loop; a few long compares per frame, no allocation.
 */
public final class IngressGuard {

    /** Lets everything through: for LANs without access control. */
    public static final IngressGuard UNGUARDED = new IngressGuard();

    /** Where the guard learns which address DHCP leased to a MAC. */
    public interface Leases {
        /** The IPv4 address leased to {@code mac}, or 0 when none. */
        int leasedAddressOf(long mac);

        /** Changes whenever a lease may have changed, so answers can be cached until then. */
        long generation();

        Leases NONE = new Leases() {
            @Override
            public int leasedAddressOf(long mac) {
                return 0;
            }

            @Override
            public long generation() {
                return 0;
            }
        };
    }

    /**
     * The network-wide record of which session holds which IPv6 address by first use. On the event loop; called only
     * when a session uses an address it holds no claim on yet.
     */
    public interface Ipv6Claims {
        /** Claims the address for this session; false when another session holds it or it may not be claimed. */
        boolean claim(long high, long low);

        /** Gives a claim back (it made room for a newer one). */
        void release(long high, long low);

        /** Every address may be claimed: for a guard alone (tests) or a LAN without others to protect. */
        Ipv6Claims ANY = new Ipv6Claims() {
            @Override
            public boolean claim(long high, long low) {
                return true;
            }

            @Override
            public void release(long high, long low) {
            }
        };
    }

    /** Told when the session binds a source MAC (once per MAC, on its first frame), so it can claim what it owns. */
    public interface MacBindings {
        void bound(long mac);

        MacBindings NONE = mac -> { };
    }

    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_ARP = 0x0806;
    private static final int ETHERTYPE_IPV6 = 0x86DD;
    /** IPv6 addresses a session may hold by first use, beyond those derived from its MACs. */
    public static final int IPV6_CLAIMS_PER_SESSION = 16;
    private static final int ICMPV6_MLD_REPORT = 131;
    private static final int ICMPV6_MLD2_REPORT = 143;
    private static final int ICMPV6_REDIRECT = 137;
    /** An NS or NA: type, code, checksum, reserved or flags (8), then the target address. */
    private static final int ND_TARGET_AT = 8;
    private static final int ETHERTYPE_VLAN = 0x8100;
    private static final int ETHERTYPE_QINQ = 0x88A8;
    /** Ethernet header (14) + the IPv4 source address offset (12). */
    private static final int IPV4_SOURCE_AT = 26;
    private static final int ETHERNET_HEADER = 14;
    /** Ethernet header (14) + the ARP sender protocol address offset (14), for Ethernet/IPv4 ARP (RFC 826). */
    private static final int ARP_SENDER_IP_AT = 28;

    private final boolean enabled;
    private final Leases leases;
    private final Counters counters;
    private final NanoClock nanoClock;
    private final TokenBucket frames;
    private final TokenBucket bytes;
    private final long[] boundMacs;
    private final MacBindings bindings;
    private final Ipv6Claims ipv6Claims;
    private final Ipv6Packet ipv6 = new Ipv6Packet();
    private final long[] claimedHigh = new long[IPV6_CLAIMS_PER_SESSION];
    private final long[] claimedLow = new long[IPV6_CLAIMS_PER_SESSION];
    private int claimedCount;
    /** Where the next claim goes when all slots are taken: the oldest. */
    private int nextClaimSlot;
    private int boundMacCount;
    /** The last lease looked up: for {@code cachedMac}, valid while the leases' generation is {@code cachedGeneration}. */
    private long cachedMac = -1;
    private long cachedGeneration = -1;
    private int cachedLease;
    /** This session's share of the drops counted in {@code counters}, for the operator's view of its member. */
    private long rateLimited;
    private long spoofedMac;
    private long spoofedIp;
    private long spoofedIpv6;
    private long ipv6HeaderChain;

    private IngressGuard() {
        this.enabled = false;
        this.leases = Leases.NONE;
        this.counters = null;
        this.nanoClock = null;
        this.frames = null;
        this.bytes = null;
        this.boundMacs = new long[0];
        this.bindings = MacBindings.NONE;
        this.ipv6Claims = Ipv6Claims.ANY;
    }

    public IngressGuard(SessionLimits limits, Leases leases, Counters counters, NanoClock nanoClock) {
        this(limits, leases, counters, nanoClock, MacBindings.NONE, Ipv6Claims.ANY);
    }

    public IngressGuard(SessionLimits limits, Leases leases, Counters counters, NanoClock nanoClock,
            MacBindings bindings, Ipv6Claims ipv6Claims) {
        this.enabled = true;
        this.bindings = bindings;
        this.ipv6Claims = ipv6Claims;
        this.leases = leases;
        this.counters = counters;
        this.nanoClock = nanoClock;
        long now = nanoClock.nanoTime();
        // A second's worth of burst: a VM's bursts (a TCP window, an ARP storm at boot) pass unharmed.
        this.frames = new TokenBucket(limits.framesPerSecond(), limits.framesPerSecond(), now);
        this.bytes = new TokenBucket(limits.bytesPerSecond(), limits.bytesPerSecond(), now);
        this.boundMacs = new long[limits.macsPerSession()];
    }

    /**
     * Whether the frame may go on to the switch. When not, it was counted; the caller still owns (and releases)
     * the buffer either way. The frame is at least an Ethernet header long.
     */
    public boolean admit(ByteBuf frame) {
        if (!enabled) {
            return true;
        }
        int at = frame.readerIndex();
        int length = frame.readableBytes();
        long now = nanoClock.nanoTime();
        if (!bytes.has(length, now) || !frames.tryTake(1, now)) {
            counters.increment(Counter.DROP_RATE_LIMITED);
            rateLimited++;
            return false;
        }
        bytes.tryTake(length, now);
        long source = (frame.getUnsignedInt(at + 6) << 16) | frame.getUnsignedShort(at + 10);
        if (!macBound(source)) {
            counters.increment(Counter.DROP_SPOOFED_MAC);
            spoofedMac++;
            return false;
        }
        int etherType = frame.getUnsignedShort(at + 12);
        int tag = 0;
        if ((etherType == ETHERTYPE_VLAN || etherType == ETHERTYPE_QINQ) && length >= 18) {
            // One tag, as the gateway reads it (IEEE 802.1Q): the address check applies behind it too.
            tag = 4;
            etherType = frame.getUnsignedShort(at + 16);
        }
        if (etherType == ETHERTYPE_IPV6) {
            return admitIpv6(frame, at + ETHERNET_HEADER + tag, length - ETHERNET_HEADER - tag, source);
        }
        int sourceIp;
        if (etherType == ETHERTYPE_IPV4 && length >= tag + IPV4_SOURCE_AT + 4) {
            sourceIp = frame.getInt(at + tag + IPV4_SOURCE_AT);
        } else if (etherType == ETHERTYPE_ARP && length >= tag + ARP_SENDER_IP_AT + 4) {
            sourceIp = frame.getInt(at + tag + ARP_SENDER_IP_AT);
        } else {
            return true;
        }
        if (sourceIp == 0) {
            return true;
        }
        int lease = leaseOf(source);
        if (lease != 0 && lease != sourceIp) {
            counters.increment(Counter.DROP_SPOOFED_IP);
            spoofedIp++;
            return false;
        }
        return true;
    }

    /** The IPv6 rules of the class comment, for the IPv6 packet at {@code at} of a frame from {@code mac}. */
    private boolean admitIpv6(ByteBuf frame, int at, int length, long mac) {
        if (length < 0 || ipv6.wrap(frame, at, length) != ParseResult.OK
                || ipv6.walkExtensionHeaders() != ParseResult.OK) {
            return dropIpv6(Counter.DROP_IPV6_HEADER_CHAIN);
        }
        int icmpType = -1;
        if (ipv6.upperLayer() == Ipv6Packet.NEXT_HEADER_ICMPV6 && !ipv6.laterFragment()
                && ipv6.upperLayerLength() >= Icmpv6Packet.HEADER_LENGTH) {
            icmpType = frame.getUnsignedByte(ipv6.upperLayerOffset());
        }
        boolean neighbourDiscovery = icmpType >= Icmpv6Packet.TYPE_ROUTER_SOLICITATION
                && icmpType <= ICMPV6_REDIRECT;
        if (neighbourDiscovery && ipv6.fragment()) {
            return dropIpv6(Counter.DROP_IPV6_HEADER_CHAIN); // RFC 6980 section 5
        }
        if (icmpType == Icmpv6Packet.TYPE_ROUTER_ADVERTISEMENT || icmpType == ICMPV6_REDIRECT) {
            return dropIpv6(Counter.DROP_SPOOFED_IPV6); // only the gateway routes this LAN
        }
        long high = ipv6.sourceHigh();
        long low = ipv6.sourceLow();
        boolean hasTarget = (icmpType == Icmpv6Packet.TYPE_NEIGHBOR_SOLICITATION
                || icmpType == Icmpv6Packet.TYPE_NEIGHBOR_ADVERTISEMENT)
                && ipv6.upperLayerLength() >= ND_TARGET_AT + Ipv6Address.LENGTH;
        if (Ipv6Address.isUnspecified(high, low)) {
            if (icmpType == Icmpv6Packet.TYPE_NEIGHBOR_SOLICITATION && hasTarget) {
                // Duplicate address detection (RFC 4862 section 5.4.2): the target is the address about to be used.
                // Claimed when free; when not, the solicitation still goes out, so its holder defends it.
                mayUse(mac, Ipv6Address.readHigh(frame, ipv6.upperLayerOffset() + ND_TARGET_AT),
                        Ipv6Address.readLow(frame, ipv6.upperLayerOffset() + ND_TARGET_AT));
                return true;
            }
            return icmpType == ICMPV6_MLD_REPORT || icmpType == ICMPV6_MLD2_REPORT
                    || dropIpv6(Counter.DROP_SPOOFED_IPV6);
        }
        if (!mayUse(mac, high, low)) {
            return dropIpv6(Counter.DROP_SPOOFED_IPV6);
        }
        if (icmpType == Icmpv6Packet.TYPE_NEIGHBOR_ADVERTISEMENT && hasTarget
                && !mayUse(mac, Ipv6Address.readHigh(frame, ipv6.upperLayerOffset() + ND_TARGET_AT),
                        Ipv6Address.readLow(frame, ipv6.upperLayerOffset() + ND_TARGET_AT))) {
            return dropIpv6(Counter.DROP_SPOOFED_IPV6);
        }
        return true;
    }

    /**
     * Whether a frame from {@code mac} may come from (or announce) the address: derived from the MAC, claimed by this
     * session, or claimable now (then claimed).
     */
    private boolean mayUse(long mac, long high, long low) {
        if (low == Ipv6Address.interfaceIdentifier(mac)) {
            return !Ipv6Address.isMulticast(high) && high != 0;
        }
        for (int i = 0; i < claimedCount; i++) {
            if (claimedLow[i] == low && claimedHigh[i] == high) {
                return true;
            }
        }
        if (!claimable(high, low) || !ipv6Claims.claim(high, low)) {
            return false;
        }
        int slot;
        if (claimedCount < IPV6_CLAIMS_PER_SESSION) {
            slot = claimedCount++;
        } else {
            slot = nextClaimSlot;
            nextClaimSlot = (nextClaimSlot + 1) % IPV6_CLAIMS_PER_SESSION;
            ipv6Claims.release(claimedHigh[slot], claimedLow[slot]);
        }
        claimedHigh[slot] = high;
        claimedLow[slot] = low;
        return true;
    }

    /**
     * Unicast addresses outside {@code ::/64} (unspecified, loopback, IPv4-mapped and -compatible) whose interface
     * identifier is not shaped like a modified EUI-64: those are derived from a MAC, and only that MAC's.
     */
    static boolean claimable(long high, long low) {
        return high != 0 && !Ipv6Address.isMulticast(high) && ((low >>> 24) & 0xFFFF) != 0xFFFE;
    }

    private boolean dropIpv6(Counter reason) {
        counters.increment(reason);
        if (reason == Counter.DROP_SPOOFED_IPV6) {
            spoofedIpv6++;
        } else {
            ipv6HeaderChain++;
        }
        return false;
    }

    /** How many IPv6 addresses this session holds by first use. */
    public int ipv6ClaimCount() {
        return claimedCount;
    }

    public long ipv6ClaimHigh(int index) {
        return claimedHigh[index];
    }

    public long ipv6ClaimLow(int index) {
        return claimedLow[index];
    }

    /**
     * Binds the unicast {@code mac} to this session ahead of its first frame (a client that names its MAC, as the
     * framed protocol's Register does), as that frame would. False when the session already holds its most MACs
     * or {@code mac} is no unicast address.
     */
    public boolean bind(long mac) {
        if (!enabled) {
            return true;
        }
        return mac != 0 && (mac & 0x0100_0000_0000L) == 0 && macBound(mac);
    }

    /** This session's drops so far, by the reason {@code relay_drops_total} names them. */
    public void forEachDrop(ObjLongConsumer<String> reasonAndCount) {
        reasonAndCount.accept("rate_limited", rateLimited);
        reasonAndCount.accept("spoofed_mac", spoofedMac);
        reasonAndCount.accept("spoofed_ip", spoofedIp);
        reasonAndCount.accept("spoofed_ipv6", spoofedIpv6);
        reasonAndCount.accept("ipv6_header_chain", ipv6HeaderChain);
    }

    /** Whether {@code mac} is one of this session's; binds it while there is room. Multicast sources are left to the switch. */
    private boolean macBound(long mac) {
        for (int i = 0; i < boundMacCount; i++) {
            if (boundMacs[i] == mac) {
                return true;
            }
        }
        if ((mac & 0x0100_0000_0000L) != 0 || mac == 0) {
            return true; // the switch drops multicast and all-zero sources itself
        }
        if (boundMacCount < boundMacs.length) {
            boundMacs[boundMacCount++] = mac;
            bindings.bound(mac);
            return true;
        }
        return false;
    }

    /** The source MACs bound to this session so far. */
    public int boundMacCount() {
        return boundMacCount;
    }

    public long boundMac(int index) {
        return boundMacs[index];
    }

    private int leaseOf(long mac) {
        long generation = leases.generation();
        if (mac != cachedMac || generation != cachedGeneration) {
            cachedLease = leases.leasedAddressOf(mac);
            cachedMac = mac;
            cachedGeneration = generation;
        }
        return cachedLease;
    }
}
