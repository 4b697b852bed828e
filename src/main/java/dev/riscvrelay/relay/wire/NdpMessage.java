package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;

/**
 * Neighbour discovery (RFC 4861) on top of an {@link Icmpv6Packet}: a reusable view of router and neighbour
 * solicitations (their target and options), and writers for the advertisements and options the gateway sends.
 *
 * <p>{@link #wrap} checks what RFC 4861 sections 6.1.1 and 7.1.1 ask of every host and router before a message is
 * used: hop limit 255 (so it cannot come from off the link), code 0, the fixed part present, every option of
 * non-zero length inside the message, a neighbour solicitation's target not multicast, and no source link-layer
 * option in a message from the unspecified address; and, since the answer goes there, a source link-layer address
 * that is an individual, non-zero MAC.
 */
public final class NdpMessage {

    /** Router solicitation: type, code, checksum, reserved. */
    public static final int ROUTER_SOLICITATION_LENGTH = 8;
    /** Neighbour solicitation and advertisement: type, code, checksum, reserved or flags, target. */
    public static final int NEIGHBOR_MESSAGE_LENGTH = 24;
    /** Router advertisement: type, code, checksum, hop limit, flags, lifetime, reachable time, retrans timer. */
    public static final int ROUTER_ADVERTISEMENT_LENGTH = 16;
    /** Options are counted in units of 8 bytes. */
    public static final int OPTION_UNIT = 8;
    /** RFC 4861 section 7.1.1: a hop limit of 255 proves the message was not forwarded by a router. */
    public static final int HOP_LIMIT = 255;

    public static final int OPTION_SOURCE_LINK_LAYER = 1;
    public static final int OPTION_TARGET_LINK_LAYER = 2;
    public static final int OPTION_PREFIX_INFORMATION = 3;
    public static final int OPTION_MTU = 5;
    public static final int OPTION_RDNSS = 25;

    public static final int LINK_LAYER_OPTION_LENGTH = 8;
    public static final int PREFIX_INFORMATION_LENGTH = 32;
    public static final int MTU_OPTION_LENGTH = 8;
    /** A recursive DNS server option with one address. */
    public static final int RDNSS_OPTION_LENGTH = 24;

    /** Neighbour advertisement flags (RFC 4861 section 4.4). */
    public static final int FLAG_ROUTER = 0x8000_0000;
    public static final int FLAG_SOLICITED = 0x4000_0000;
    public static final int FLAG_OVERRIDE = 0x2000_0000;
    /** Prefix information flags (RFC 4861 section 4.6.2): on-link, and usable for SLAAC (RFC 4862). */
    /** Router advertisement flags (RFC 4861 section 4.2): M, addresses by DHCPv6; O, other settings by DHCPv6. */
    public static final int RA_MANAGED = 0x80;
    public static final int RA_OTHER_CONFIGURATION = 0x40;
    public static final int PREFIX_ON_LINK = 0x80;
    public static final int PREFIX_AUTONOMOUS = 0x40;

    /** No source link-layer address option was present. */
    public static final long NO_LINK_LAYER_ADDRESS = -1;

    private static final int TARGET = 8;

    private ByteBuf buf;
    private int offset;
    private int type;
    private long sourceLinkLayer;

    /**
     * Views a router or neighbour solicitation already wrapped as {@code icmp} (checksum verified) in {@code ip}.
     *
     * @return {@link ParseResult#OK}; {@link ParseResult#UNSUPPORTED_TYPE} for other ICMPv6 types; or
     *     {@link ParseResult#BAD_OPTIONS} / {@link ParseResult#TRUNCATED} / {@link ParseResult#NOT_FROM_LINK}
     *     for a message RFC 4861 says to discard
     */
    public ParseResult wrap(Ipv6Packet ip, Icmpv6Packet icmp) {
        this.buf = ip.buffer();
        this.offset = icmp.offset();
        this.type = icmp.type();
        this.sourceLinkLayer = NO_LINK_LAYER_ADDRESS;
        int fixed;
        if (type == Icmpv6Packet.TYPE_ROUTER_SOLICITATION) {
            fixed = ROUTER_SOLICITATION_LENGTH;
        } else if (type == Icmpv6Packet.TYPE_NEIGHBOR_SOLICITATION) {
            fixed = NEIGHBOR_MESSAGE_LENGTH;
        } else {
            return ParseResult.UNSUPPORTED_TYPE;
        }
        if (ip.hopLimit() != HOP_LIMIT || icmp.code() != 0) {
            return ParseResult.NOT_FROM_LINK;
        }
        int length = icmp.length();
        if (length < fixed) {
            return ParseResult.TRUNCATED;
        }
        if (type == Icmpv6Packet.TYPE_NEIGHBOR_SOLICITATION && Ipv6Address.isMulticast(targetHigh())) {
            return ParseResult.BAD_OPTIONS;
        }
        int end = offset + length;
        for (int at = offset + fixed; at < end; ) {
            if (end - at < 2) {
                return ParseResult.BAD_OPTIONS;
            }
            int optionType = buf.getUnsignedByte(at);
            int optionLength = buf.getUnsignedByte(at + 1) * OPTION_UNIT;
            if (optionLength == 0 || optionLength > end - at) {
                return ParseResult.BAD_OPTIONS;
            }
            if (optionType == OPTION_SOURCE_LINK_LAYER && optionLength == LINK_LAYER_OPTION_LENGTH) {
                sourceLinkLayer = MacAddress.read(buf, at + 2);
                if (!MacAddress.isValidSource(sourceLinkLayer)) {
                    // The answer would go to it: a group or zero MAC is no neighbour's address.
                    return ParseResult.BAD_OPTIONS;
                }
            }
            at += optionLength;
        }
        if (sourceLinkLayer != NO_LINK_LAYER_ADDRESS && Ipv6Address.isUnspecified(ip.sourceHigh(), ip.sourceLow())) {
            return ParseResult.BAD_OPTIONS;
        }
        return ParseResult.OK;
    }

    /** {@link Icmpv6Packet#TYPE_ROUTER_SOLICITATION} or {@link Icmpv6Packet#TYPE_NEIGHBOR_SOLICITATION}. */
    public int type() {
        return type;
    }

    /** A neighbour solicitation's target address, high half. */
    public long targetHigh() {
        return buf.getLong(offset + TARGET);
    }

    public long targetLow() {
        return buf.getLong(offset + TARGET + 8);
    }

    /** The MAC of the source link-layer address option, or {@link #NO_LINK_LAYER_ADDRESS}. */
    public long sourceLinkLayer() {
        return sourceLinkLayer;
    }

    /**
     * Writes a neighbour advertisement for {@code target} with a target link-layer address option, checksum zero.
     *
     * @return the number of bytes written, {@value #NEIGHBOR_MESSAGE_LENGTH} + {@value #LINK_LAYER_OPTION_LENGTH}
     */
    public static int writeNeighborAdvertisement(ByteBuf buf, int index, int flags, long targetHigh, long targetLow,
            long mac) {
        Icmpv6Packet.writeHeader(buf, index, Icmpv6Packet.TYPE_NEIGHBOR_ADVERTISEMENT, 0);
        buf.setInt(index + 4, flags);
        Ipv6Address.write(buf, index + TARGET, targetHigh, targetLow);
        return NEIGHBOR_MESSAGE_LENGTH + writeLinkLayerOption(buf, index + NEIGHBOR_MESSAGE_LENGTH,
                OPTION_TARGET_LINK_LAYER, mac);
    }

    /**
     * Writes the fixed part of a router advertisement, checksum zero, reachable time and retransmission timer
     * unspecified (0: hosts keep their own).
     *
     * @param flags {@link #RA_MANAGED}, {@link #RA_OTHER_CONFIGURATION}, or 0
     * @param routerLifetimeSeconds how long hosts may use the sender as default router, 0..9000
     * @return the number of bytes written, {@value #ROUTER_ADVERTISEMENT_LENGTH}
     */
    public static int writeRouterAdvertisement(ByteBuf buf, int index, int curHopLimit, int flags,
            int routerLifetimeSeconds) {
        Icmpv6Packet.writeHeader(buf, index, Icmpv6Packet.TYPE_ROUTER_ADVERTISEMENT, 0);
        buf.setByte(index + 4, curHopLimit);
        buf.setByte(index + 5, flags);
        buf.setShort(index + 6, routerLifetimeSeconds);
        buf.setInt(index + 8, 0);
        buf.setInt(index + 12, 0);
        return ROUTER_ADVERTISEMENT_LENGTH;
    }

    /** Writes a source or target link-layer address option. @return {@value #LINK_LAYER_OPTION_LENGTH} */
    public static int writeLinkLayerOption(ByteBuf buf, int index, int optionType, long mac) {
        buf.setByte(index, optionType);
        buf.setByte(index + 1, LINK_LAYER_OPTION_LENGTH / OPTION_UNIT);
        MacAddress.write(buf, index + 2, mac);
        return LINK_LAYER_OPTION_LENGTH;
    }

    /** Writes an MTU option (RFC 4861 section 4.6.4). @return {@value #MTU_OPTION_LENGTH} */
    public static int writeMtuOption(ByteBuf buf, int index, int mtu) {
        buf.setByte(index, OPTION_MTU);
        buf.setByte(index + 1, MTU_OPTION_LENGTH / OPTION_UNIT);
        buf.setShort(index + 2, 0);
        buf.setInt(index + 4, mtu);
        return MTU_OPTION_LENGTH;
    }

    /**
     * Writes a recursive DNS server option with one server (RFC 8106 section 5.1).
     *
     * @return {@value #RDNSS_OPTION_LENGTH}
     */
    public static int writeRdnssOption(ByteBuf buf, int index, int lifetimeSeconds, long serverHigh, long serverLow) {
        buf.setByte(index, OPTION_RDNSS);
        buf.setByte(index + 1, RDNSS_OPTION_LENGTH / OPTION_UNIT);
        buf.setShort(index + 2, 0);
        buf.setInt(index + 4, lifetimeSeconds);
        Ipv6Address.write(buf, index + 8, serverHigh, serverLow);
        return RDNSS_OPTION_LENGTH;
    }

    /**
     * Writes a prefix information option for a /64 (RFC 4861 section 4.6.2).
     *
     * @return {@value #PREFIX_INFORMATION_LENGTH}
     */
    public static int writePrefixInformation(ByteBuf buf, int index, long prefixHigh, int flags,
            int validLifetimeSeconds, int preferredLifetimeSeconds) {
        buf.setByte(index, OPTION_PREFIX_INFORMATION);
        buf.setByte(index + 1, PREFIX_INFORMATION_LENGTH / OPTION_UNIT);
        buf.setByte(index + 2, 64);
        buf.setByte(index + 3, flags);
        buf.setInt(index + 4, validLifetimeSeconds);
        buf.setInt(index + 8, preferredLifetimeSeconds);
        buf.setInt(index + 12, 0);
        Ipv6Address.write(buf, index + 16, prefixHigh, 0);
        return PREFIX_INFORMATION_LENGTH;
    }
}
