package dev.riscvrelay.relay.access;

/**
 * Who may join which network and what sessions may send.
 *
 * @param maxNetworks most networks at once, the default one included; each has its own switch, gateway, DHCP pool,
 *     DNS forwarder and NAT
 * @param tokens the tokens sessions must present, or {@link AccessTokens#NONE}
 * @param limits per-session rates, bound MACs and sessions per source address
 * @param claims how long networks and leases outlive their clients, and how many one address may take
 */
public record AccessConfig(int maxNetworks, AccessTokens tokens, SessionLimits limits, ClaimLimits claims) {

    public static final int DEFAULT_MAX_NETWORKS = 16;

    public AccessConfig {
        if (maxNetworks < 1) {
            throw new IllegalArgumentException("maxNetworks must be at least 1: " + maxNetworks);
        }
        java.util.Objects.requireNonNull(claims, "claims");
    }

    /** With the default claim limits. */
    public AccessConfig(int maxNetworks, AccessTokens tokens, SessionLimits limits) {
        this(maxNetworks, tokens, limits, ClaimLimits.defaults());
    }

    public static AccessConfig defaults() {
        return new AccessConfig(DEFAULT_MAX_NETWORKS, AccessTokens.NONE, SessionLimits.defaults());
    }

    public AccessConfig withTokens(AccessTokens newTokens) {
        return new AccessConfig(maxNetworks, newTokens, limits, claims);
    }

    public AccessConfig withLimits(SessionLimits newLimits) {
        return new AccessConfig(maxNetworks, tokens, newLimits, claims);
    }

    public AccessConfig withClaims(ClaimLimits newClaims) {
        return new AccessConfig(maxNetworks, tokens, limits, newClaims);
    }
}
