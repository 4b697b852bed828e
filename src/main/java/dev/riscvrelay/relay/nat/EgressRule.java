package dev.riscvrelay.relay.nat;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * One rule of an egress policy, for either address family ({@link Cidr} or {@link Ipv6Cidr}), and what both
 * policies do with their rules: order them for lookup and state them in one start-up line.
 *
 * @param prefixLength the prefix's length, which orders lookup (longest first)
 */
record EgressRule<P>(P prefix, int prefixLength, boolean allow, Origin origin) {

    /** Where a rule comes from; on equal prefixes the higher precedence wins. */
    enum Origin {
        DEFAULT(0), HOST_ADDRESS(0), OPERATOR_ALLOW(1), OPERATOR_DENY(2);

        final int precedence;

        Origin(int precedence) {
            this.precedence = precedence;
        }
    }

    /**
     * A policy's rules from its parts (the host's addresses already as full-length prefixes), in lookup order.
     */
    static <P> List<EgressRule<P>> of(List<P> defaults, Collection<P> hostAddresses, List<P> operatorAllow,
            List<P> operatorDeny, ToIntFunction<P> prefixLength) {
        List<EgressRule<P>> rules = new ArrayList<>();
        for (P prefix : defaults) {
            rules.add(new EgressRule<>(prefix, prefixLength.applyAsInt(prefix), false, Origin.DEFAULT));
        }
        for (P prefix : hostAddresses) {
            rules.add(new EgressRule<>(prefix, prefixLength.applyAsInt(prefix), false, Origin.HOST_ADDRESS));
        }
        for (P prefix : operatorAllow) {
            rules.add(new EgressRule<>(prefix, prefixLength.applyAsInt(prefix), true, Origin.OPERATOR_ALLOW));
        }
        for (P prefix : operatorDeny) {
            rules.add(new EgressRule<>(prefix, prefixLength.applyAsInt(prefix), false, Origin.OPERATOR_DENY));
        }
        return inLookupOrder(rules);
    }

    /** Every address on this host's interfaces (in the calling thread's network namespace). */
    static List<InetAddress> interfaceAddresses() {
        List<InetAddress> addresses = new ArrayList<>();
        try {
            var interfaces = NetworkInterface.getNetworkInterfaces();
            while (interfaces != null && interfaces.hasMoreElements()) {
                addresses.addAll(java.util.Collections.list(interfaces.nextElement().getInetAddresses()));
            }
        } catch (SocketException e) {
            throw new IllegalStateException("cannot enumerate the host's interfaces for the egress policy", e);
        }
        return addresses;
    }

    /**
     * The policy's rules in lookup order: longest prefix first; on a tie operator deny, then operator allow, then
     * the default. The first rule that matches an address decides.
     */
    static <P> List<EgressRule<P>> inLookupOrder(Collection<EgressRule<P>> rules) {
        List<EgressRule<P>> sorted = new ArrayList<>(rules);
        sorted.sort(Comparator.comparingInt((EgressRule<P> r) -> -r.prefixLength())
                .thenComparingInt(r -> -r.origin().precedence));
        return List.copyOf(sorted);
    }

    /**
     * The start-up line of rules in lookup order: the default ranges still denied, this host's own addresses, and
     * what {@code --allow}/{@code --deny} changed, each in address order. A rule another one of the same prefix
     * overrides is left out, as lookup ignores it.
     *
     * @param everything the prefix of the whole address space (0.0.0.0/0, ::/0)
     */
    static <P> String summary(String label, List<EgressRule<P>> lookupOrder, Comparator<P> addressOrder,
            P everything) {
        Map<P, EgressRule<P>> deciding = new LinkedHashMap<>();
        for (EgressRule<P> rule : lookupOrder) {
            deciding.putIfAbsent(rule.prefix(), rule); // the first of a prefix in lookup order is the one that matches
        }
        List<EgressRule<P>> byAddress = new ArrayList<>(deciding.values());
        byAddress.sort(Comparator.comparing((EgressRule<P> r) -> r.prefix(), addressOrder)
                .thenComparingInt(EgressRule::prefixLength));
        List<String> denied = new ArrayList<>();
        List<String> operatorAllowed = new ArrayList<>();
        List<String> operatorDenied = new ArrayList<>();
        boolean hostAddressDenied = false;
        for (EgressRule<P> rule : byAddress) {
            switch (rule.origin()) {
                case DEFAULT -> denied.add(rule.prefix().toString());
                case HOST_ADDRESS -> hostAddressDenied = true;
                case OPERATOR_ALLOW -> operatorAllowed.add(rule.prefix().toString());
                case OPERATOR_DENY -> operatorDenied.add(rule.prefix().toString());
            }
        }
        if (hostAddressDenied) {
            denied.add("this host's own addresses");
        }
        EgressRule<P> whole = deciding.get(everything);
        StringBuilder line = new StringBuilder(label).append(": VMs reach ")
                .append(whole != null && !whole.allow() ? "only what --allow opens" : "the public internet");
        if (!denied.isEmpty()) {
            line.append("; denied: ").append(String.join(", ", denied));
        }
        if (!operatorAllowed.isEmpty()) {
            line.append("; allowed by --allow: ").append(String.join(", ", operatorAllowed));
        }
        if (!operatorDenied.isEmpty()) {
            line.append("; denied by --deny: ").append(String.join(", ", operatorDenied));
        }
        return line.append(" (change with --allow/--deny)").toString();
    }
}
