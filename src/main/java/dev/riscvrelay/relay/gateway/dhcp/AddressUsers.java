package dev.riscvrelay.relay.gateway.dhcp;

/**
 * Which MAC the LAN last showed using an address, whether or not DHCP gave it: the gateway's ARP cache sees a host
 * with a static address when it asks for its router. The DHCP server passes over such addresses for other clients
 * while the pool has any other (RFC 2131 section 2.2: a server should make sure an address is not in use before it
 * hands it out).
 */
@FunctionalInterface
public interface AddressUsers {

    /** No MAC seen using the address. */
    long NONE_SEEN = -1;

    /** A LAN nobody watches. */
    AddressUsers NONE = address -> NONE_SEEN;

    /** The MAC last seen using {@code address}, or {@link #NONE_SEEN}. */
    long macOf(int address);
}
