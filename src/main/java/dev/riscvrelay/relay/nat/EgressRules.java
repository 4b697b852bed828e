package dev.riscvrelay.relay.nat;

import java.util.List;

/**
 * The operator's changes to the default egress policy ({@code --allow CIDR}, {@code --deny CIDR}), for IPv4 and
 * IPv6.
 *
 * @param allow IPv4 prefixes VMs may reach even inside a default-denied range
 * @param deny IPv4 prefixes VMs may not reach, in addition to the defaults
 * @param allowIpv6 IPv6 prefixes VMs may reach even inside a default-denied range
 * @param denyIpv6 IPv6 prefixes VMs may not reach, in addition to the defaults
 */
public record EgressRules(List<Cidr> allow, List<Cidr> deny, List<Ipv6Cidr> allowIpv6, List<Ipv6Cidr> denyIpv6) {

    public static final EgressRules NONE = new EgressRules(List.of(), List.of());

    public EgressRules {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
        allowIpv6 = List.copyOf(allowIpv6);
        denyIpv6 = List.copyOf(denyIpv6);
    }

    /** IPv4 rules only. */
    public EgressRules(List<Cidr> allow, List<Cidr> deny) {
        this(allow, deny, List.of(), List.of());
    }
}
