package dev.riscvrelay.relay.gateway.dhcp;

/**
 * Who holds a lease: the session that sent the DHCP message (found by the frame's source MAC). Leases are counted
 * against it and its client address, and outlive it only by a grace time. A LAN without sessions (a test, an
 * in-process port) has no holders and no such limits.
 */
public interface LeaseHolder {

    /** Finds the holder of a source MAC, or null when no session has bound it. */
    interface Directory {
        LeaseHolder holderOf(long sourceMac);

        Directory NONE = mac -> null;
    }

    /**
     * Whether the server reads one more DHCP message from this holder now (a rate limit: real clients send a few a
     * minute; a flood would make the server scan its pool for every message).
     */
    boolean mayAsk(long now);

    /** Whether one more address may be offered or leased to this holder (its session's and its address's limits). */
    boolean mayTakeLease();

    /** An address was offered or leased to this holder. */
    void leaseTaken();

    /** An address this holder had was freed or passed to another holder. */
    void leaseReturned();

    /** Whether the holder's session has ended; its leases then last only until {@link #departedAt()} + grace. */
    boolean departed();

    /** When the session ended, on the DHCP server's clock; meaningful only once {@link #departed()}. */
    long departedAt();
}
