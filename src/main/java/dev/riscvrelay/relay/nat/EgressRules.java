package dev.riscvrelay.relay.nat;

import java.util.List;

/**
 * The operator's changes to the default egress policy ({@code --allow CIDR}, {@code --deny CIDR}).
 *
 * @param allow prefixes VMs may reach even inside a default-denied range
 * @param deny prefixes VMs may not reach, in addition to the defaults
 */
public record EgressRules(List<Cidr> allow, List<Cidr> deny) {

    public static final EgressRules NONE = new EgressRules(List.of(), List.of());

    public EgressRules {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
    }
}
