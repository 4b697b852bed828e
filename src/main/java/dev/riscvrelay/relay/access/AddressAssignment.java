package dev.riscvrelay.relay.access;

import dev.riscvrelay.relay.metrics.Counter;

/**
 * Gives a session's VM an IPv4 address without DHCP, for clients told their address by the relay (the riscv-vm
 * framed protocol's Register): the lease a DHCP client with that MAC would get, held by the session like one it
 * asked for by DHCP, with the MAC bound to the session. On the event loop of the session's network.
 */
@FunctionalInterface
public interface AddressAssignment {

    /** What {@link #assign} decided. */
    sealed interface Outcome {
    }

    /** The address leased to the MAC and the network's settings, IPv4 addresses as big-endian ints. */
    record Assigned(int address, int gateway, int netmask, int dns) implements Outcome {
    }

    /** No address: {@code message} says why, for the client; {@code reason} is counted by whoever gave it. */
    record Refused(String message, Counter reason) implements Outcome {
    }

    /** Binds {@code mac} to the session and leases it an address, or renews the lease it holds. */
    Outcome assign(long mac);

    /** For LANs without a DHCP pool (tests, embedding): nobody gets an address. */
    AddressAssignment NONE = mac -> new Refused("this network assigns no addresses", Counter.FRAMED_REFUSED);
}
