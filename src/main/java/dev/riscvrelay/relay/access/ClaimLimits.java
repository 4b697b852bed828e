package dev.riscvrelay.relay.access;

import java.time.Duration;

/**
 * How long what a client takes outlives it, and how much one client address may take: networks are freed when they
 * stand empty, leases return to the pool when their session is gone, and one address may create networks only so
 * fast and hold only so many leases. Without these, one client could hold every network and every address for as
 * long as the relay runs.
 *
 * @param networkIdle how long a network with no members is kept (its leases, NAT flows and DNS) before it is freed;
 *     the default network is never freed
 * @param networkCreationsPerMinute networks one client address may create per minute; more are refused with 429
 * @param leaseGrace how long a departed session's leases stay reserved, so a VM that reconnects gets its address
 *     back; then they return to the pool
 * @param leasesPerAddress addresses (offered or leased) that the sessions of one client address may hold in one
 *     network
 */
public record ClaimLimits(Duration networkIdle, int networkCreationsPerMinute, Duration leaseGrace,
        int leasesPerAddress) {

    /** Long enough for a page reload or a VM reboot, short enough that abandoned networks do not pile up. */
    public static final Duration DEFAULT_NETWORK_IDLE = Duration.ofMinutes(5);
    public static final int DEFAULT_NETWORK_CREATIONS_PER_MINUTE = 10;
    public static final Duration DEFAULT_LEASE_GRACE = Duration.ofMinutes(1);
    /** One per session one address may hold by default ({@link SessionLimits#DEFAULT_SESSIONS_PER_ADDRESS}). */
    public static final int DEFAULT_LEASES_PER_ADDRESS = 64;

    public ClaimLimits {
        if (networkIdle == null || networkIdle.isNegative() || leaseGrace == null || leaseGrace.isNegative()) {
            throw new IllegalArgumentException("idle and grace times must not be negative");
        }
        if (networkCreationsPerMinute < 1 || leasesPerAddress < 1) {
            throw new IllegalArgumentException("network creations per minute and leases per address must be positive: "
                    + networkCreationsPerMinute + ", " + leasesPerAddress);
        }
    }

    public static ClaimLimits defaults() {
        return new ClaimLimits(DEFAULT_NETWORK_IDLE, DEFAULT_NETWORK_CREATIONS_PER_MINUTE, DEFAULT_LEASE_GRACE,
                DEFAULT_LEASES_PER_ADDRESS);
    }

    public ClaimLimits withNetworkIdle(Duration idle) {
        return new ClaimLimits(idle, networkCreationsPerMinute, leaseGrace, leasesPerAddress);
    }

    public ClaimLimits withNetworkCreationsPerMinute(int perMinute) {
        return new ClaimLimits(networkIdle, perMinute, leaseGrace, leasesPerAddress);
    }

    public ClaimLimits withLeases(Duration grace, int perAddress) {
        return new ClaimLimits(networkIdle, networkCreationsPerMinute, grace, perAddress);
    }
}
