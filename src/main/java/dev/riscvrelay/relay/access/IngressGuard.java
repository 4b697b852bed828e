package dev.riscvrelay.relay.access;

import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import java.util.function.ObjLongConsumer;

/**
 * Checks every frame a session sends before it reaches the switch: the session's rate (two token buckets, frames
 * and bytes), its source MAC (the first {@link SessionLimits#macsPerSession()} it uses are bound to it; others are
 * spoofed) and, once DHCP has leased an address to that MAC, the source IPv4 address of its IPv4 and ARP frames
 * (0.0.0.0 stays allowed: DHCP clients and ARP probes use it). Drops are counted by reason.
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

    /** Told when the session binds a source MAC (once per MAC, on its first frame), so it can claim what it owns. */
    public interface MacBindings {
        void bound(long mac);

        MacBindings NONE = mac -> { };
    }

    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_ARP = 0x0806;
    private static final int ETHERTYPE_VLAN = 0x8100;
    private static final int ETHERTYPE_QINQ = 0x88A8;
    /** Ethernet header (14) + the IPv4 source address offset (12). */
    private static final int IPV4_SOURCE_AT = 26;
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
    private int boundMacCount;
    /** The last lease looked up: for {@code cachedMac}, valid while the leases' generation is {@code cachedGeneration}. */
    private long cachedMac = -1;
    private long cachedGeneration = -1;
    private int cachedLease;
    /** This session's share of the drops counted in {@code counters}, for the operator's view of its member. */
    private long rateLimited;
    private long spoofedMac;
    private long spoofedIp;

    private IngressGuard() {
        this.enabled = false;
        this.leases = Leases.NONE;
        this.counters = null;
        this.nanoClock = null;
        this.frames = null;
        this.bytes = null;
        this.boundMacs = new long[0];
        this.bindings = MacBindings.NONE;
    }

    public IngressGuard(SessionLimits limits, Leases leases, Counters counters, NanoClock nanoClock) {
        this(limits, leases, counters, nanoClock, MacBindings.NONE);
    }

    public IngressGuard(SessionLimits limits, Leases leases, Counters counters, NanoClock nanoClock,
            MacBindings bindings) {
        this.enabled = true;
        this.bindings = bindings;
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
