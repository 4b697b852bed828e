package dev.riscvrelay.relay.wire;

/**
 * What a view's {@code wrap} found: {@link #OK}, or the reason the bytes are not a packet of that kind. Callers turn
 * a reason into a drop counter; bad input is never an exception.
 */
public enum ParseResult {
    OK,
    /** Fewer bytes than the fixed header (or than a length field inside it) needs. */
    TRUNCATED,
    /** IPv4 or IPv6: the version nibble is not 4, or not 6. */
    UNSUPPORTED_VERSION,
    /** IPv4: IHL below 5 words or beyond the bytes present. */
    BAD_HEADER_LENGTH,
    /** IPv4: total length shorter than the header or longer than the bytes present. */
    BAD_TOTAL_LENGTH,
    /** UDP: length field below 8 or longer than the bytes present. */
    BAD_LENGTH,
    /** A checksum the view can verify on its own does not add up. */
    BAD_CHECKSUM,
    /** ARP: not Ethernet hardware (1, length 6) and IPv4 protocol (0x0800, length 4). */
    UNSUPPORTED_ARP_FORMAT,
    /** DHCP: hardware type is not Ethernet (1) or hardware address length is not 6. */
    UNSUPPORTED_HARDWARE,
    /** DHCP: the options field does not start with the magic cookie 99.130.83.99 (RFC 2131 section 3). */
    BAD_MAGIC_COOKIE,
    /**
     * DHCP: an option's length runs past the end of its area, or a fixed-size option has the wrong length. Neighbour
     * discovery: an option of length 0 or past the message, a multicast target, or a link-layer address option from
     * the unspecified address.
     */
    BAD_OPTIONS,
    /** TCP: data offset below 5 words or beyond the segment. */
    BAD_DATA_OFFSET,
    /** TCP: an option whose length is below 2, runs past the header, or does not fit its kind. */
    BAD_OPTION,
    /** A message of a type the view does not read (e.g. an ICMPv6 type that is not neighbour discovery). */
    UNSUPPORTED_TYPE,
    /** Neighbour discovery: hop limit not 255 (so possibly forwarded from off the link) or code not 0. */
    NOT_FROM_LINK,
    /**
     * IPv6: an extension header that runs past the payload, a hop-by-hop header that is not the first, or more
     * extension headers than {@link Ipv6Packet#MAX_EXTENSION_HEADERS}.
     */
    BAD_EXTENSION_CHAIN;

    public boolean ok() {
        return this == OK;
    }
}
