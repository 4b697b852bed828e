package dev.riscvrelay.relay.access;

import dev.riscvrelay.relay.lan.NetworkConfig;
import java.util.HashMap;
import java.util.Map;

/**
 * Which session of one network holds which IPv6 address by first use (see {@link IngressGuard}): the first to
 * claim an address holds it until it gives it back or departs. The gateway's addresses are never a session's.
 * Bounded by the sessions of the network times {@link IngressGuard#IPV6_CLAIMS_PER_SESSION}. On the network's
 * event loop; touched only when a session uses an address it holds no claim on yet, never per frame.
 *
 * @param <O> the owner, a session's membership
 */
public final class Ipv6AddressOwners<O> {

    private record Address(long high, long low) {
    }

    private final NetworkConfig config;
    private final Map<Address, O> owners = new HashMap<>();

    public Ipv6AddressOwners(NetworkConfig config) {
        this.config = config;
    }

    /** Claims the address for {@code owner}; true when it is now (or already was) {@code owner}'s. */
    public boolean claim(long high, long low, O owner) {
        if (config.isGatewayIpv6Address(high, low)) {
            return false;
        }
        O holder = owners.putIfAbsent(new Address(high, low), owner);
        return holder == null || holder == owner;
    }

    /** Gives the address back, if {@code owner} holds it. */
    public void release(long high, long low, O owner) {
        owners.remove(new Address(high, low), owner);
    }

    /** Who holds the address, or null. */
    public O owner(long high, long low) {
        return owners.get(new Address(high, low));
    }

    public int size() {
        return owners.size();
    }
}
