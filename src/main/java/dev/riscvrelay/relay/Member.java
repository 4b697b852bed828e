package dev.riscvrelay.relay;

import dev.riscvrelay.relay.access.AddressAssignment;
import dev.riscvrelay.relay.access.IngressGuard;
import dev.riscvrelay.relay.gateway.dhcp.DhcpServer;
import dev.riscvrelay.relay.gateway.dhcp.LeaseHolder;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import java.net.InetAddress;

/**
 * One session's membership of a network, from admission until the session ends: what it claims there. The source
 * MACs its guard binds are its own; the DHCP server counts the addresses offered or leased to those MACs against it
 * (at most one per bound MAC) and, while it lasts, against its client address; when it departs, its leases last a
 * grace time more but no longer count for the address (they are the first taken when the pool runs dry, so a client
 * that reconnects in a loop does not lock itself, or anyone, out). The IPv6 addresses its guard claims by first use
 * are its own too, until it departs. On the network's event loop.
 */
final class Member implements LeaseHolder, IngressGuard.MacBindings, IngressGuard.Ipv6Claims, AddressAssignment {

    /** DHCP messages a session may send: 10 a second, after a burst of 20 (a boot, a few MACs, retries). */
    static final long DHCP_MESSAGE_INTERVAL_NANOS = 100_000_000L;
    static final int DHCP_MESSAGE_BURST = 20;

    private final Network network;
    private final InetAddress peer;
    private final int maxLeases;
    private IngressGuard guard;
    private int leases;
    private boolean departed;
    private long departedAt;
    /** When the DHCP allowance is next fully spent (generic cell rate: each message moves it one interval on). */
    private long dhcpAllowanceAt = Long.MIN_VALUE;

    Member(Network network, InetAddress peer, int maxLeases) {
        this.network = network;
        this.peer = peer;
        this.maxLeases = maxLeases;
    }

    /** The guard whose bound MACs are this member's; set once, right after both are made. */
    void guardedBy(IngressGuard sessionGuard) {
        this.guard = sessionGuard;
    }

    InetAddress peer() {
        return peer;
    }

    @Override
    public void bound(long mac) {
        network.claimMac(mac, this);
    }

    @Override
    public boolean claim(long high, long low) {
        return !departed && network.ipv6Owners().claim(high, low, this);
    }

    @Override
    public void release(long high, long low) {
        network.ipv6Owners().release(high, low, this);
    }

    /**
     * The session's client named {@code mac} and asks for an address: the MAC is bound to the session (unless
     * another live session holds it) and leased the address DHCP would give it, held by this member.
     */
    @Override
    public Outcome assign(long mac) {
        if (departed) {
            return new Refused("the session has ended", Counter.FRAMED_REFUSED);
        }
        Member owner = network.macOwner(mac);
        if (owner != null && owner != this) {
            return new Refused("MAC address in use by another session", Counter.FRAMED_REFUSED);
        }
        if (guard == null || !guard.bind(mac)) {
            return new Refused("MAC address refused: not unicast, or the session holds its most MACs",
                    Counter.FRAMED_REFUSED);
        }
        long address = network.assign(mac, this);
        if (address == DhcpServer.ASSIGN_POOL_EXHAUSTED) {
            return new Refused("IP pool exhausted", Counter.FRAMED_REFUSED);
        }
        if (address == DhcpServer.ASSIGN_OVER_LIMIT) {
            return new Refused("address limit reached for this session or its client address",
                    Counter.FRAMED_REFUSED);
        }
        NetworkConfig config = network.dhcp().config();
        return new Assigned((int) address, config.gatewayAddress(), config.netmask(), config.dnsAddress());
    }

    @Override
    public boolean mayAsk(long now) {
        long from = dhcpAllowanceAt == Long.MIN_VALUE || dhcpAllowanceAt - now < 0 ? now : dhcpAllowanceAt;
        if (from - now > (DHCP_MESSAGE_BURST - 1) * DHCP_MESSAGE_INTERVAL_NANOS) {
            return false;
        }
        dhcpAllowanceAt = from + DHCP_MESSAGE_INTERVAL_NANOS;
        return true;
    }

    @Override
    public boolean mayTakeLease() {
        return !departed && leases < maxLeases && network.mayLeaseTo(peer);
    }

    @Override
    public void leaseTaken() {
        leases++;
        network.addressLeaseTaken(peer);
    }

    @Override
    public void leaseReturned() {
        leases--;
        if (!departed) {
            network.addressLeasesReturned(peer, 1);
        }
    }

    @Override
    public boolean departed() {
        return departed;
    }

    @Override
    public long departedAt() {
        return departedAt;
    }

    /** The session ended: its MACs and IPv6 claims are nobody's now, and its leases count down their grace time from {@code now}. */
    void depart(long now) {
        network.addressLeasesReturned(peer, leases);
        departed = true;
        departedAt = now;
        if (guard != null) {
            for (int i = 0; i < guard.boundMacCount(); i++) {
                network.releaseMac(guard.boundMac(i), this);
            }
            for (int i = 0; i < guard.ipv6ClaimCount(); i++) {
                release(guard.ipv6ClaimHigh(i), guard.ipv6ClaimLow(i));
            }
        }
    }
}
