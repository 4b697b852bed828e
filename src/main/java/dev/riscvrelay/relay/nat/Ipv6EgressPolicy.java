package dev.riscvrelay.relay.nat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which IPv6 destinations VMs may reach, with {@link EgressPolicy}'s rule: the most specific prefix wins, on equal
 * prefixes an operator rule beats a default one and an operator's deny beats its allow; an address no rule covers
 * is allowed.
 *
 * <p>Denied by default: the unspecified address and loopback, IPv4-mapped addresses (::ffff:0:0/96) and the NAT64
 * prefixes (64:ff9b::/96, 64:ff9b:1::/48), which would lead back into IPv4 around its policy, discard-only 100::/64,
 * benchmarking 2001:2::/48 and documentation 2001:db8::/32, unique local fc00::/7, link-local fe80::/10, the
 * deprecated site-local fec0::/10, multicast ff00::/8 (RFC 6890, RFC 4291), and every address of the host itself.
 *
 * <p>Lookup scans arrays sorted by prefix length, longest first. Immutable; safe to share.
 */
public final class Ipv6EgressPolicy {

    /** The ranges denied unless the operator allows them. */
    public static final List<Ipv6Cidr> DEFAULT_DENIED = List.of(
            Ipv6Cidr.parse("::/128"),
            Ipv6Cidr.parse("::1/128"),
            Ipv6Cidr.parse("::ffff:0:0/96"),
            Ipv6Cidr.parse("64:ff9b::/96"),
            Ipv6Cidr.parse("64:ff9b:1::/48"),
            Ipv6Cidr.parse("100::/64"),
            Ipv6Cidr.parse("2001:2::/48"),
            Ipv6Cidr.parse("2001:db8::/32"),
            Ipv6Cidr.parse("fc00::/7"),
            Ipv6Cidr.parse("fe80::/10"),
            Ipv6Cidr.parse("fec0::/10"),
            Ipv6Cidr.parse("ff00::/8"));

    /** Where a rule comes from; on equal prefixes the higher precedence wins. */
    private enum Origin {
        DEFAULT(0), HOST_ADDRESS(0), OPERATOR_ALLOW(1), OPERATOR_DENY(2);

        final int precedence;

        Origin(int precedence) {
            this.precedence = precedence;
        }
    }

    private record Rule(Ipv6Cidr prefix, boolean allow, Origin origin) {
    }

    private final long[] highs;
    private final long[] lows;
    private final long[] highMasks;
    private final long[] lowMasks;
    private final boolean[] allows;
    private final List<Rule> rules;

    private Ipv6EgressPolicy(List<Rule> sorted) {
        rules = List.copyOf(sorted);
        int n = sorted.size();
        highs = new long[n];
        lows = new long[n];
        highMasks = new long[n];
        lowMasks = new long[n];
        allows = new boolean[n];
        for (int i = 0; i < n; i++) {
            Ipv6Cidr prefix = sorted.get(i).prefix();
            highs[i] = prefix.high();
            lows[i] = prefix.low();
            highMasks[i] = prefix.highMask();
            lowMasks[i] = prefix.lowMask();
            allows[i] = sorted.get(i).allow();
        }
    }

    /** The defaults plus the host's own addresses (each a /128), changed by the operator's IPv6 rules. */
    public static Ipv6EgressPolicy create(EgressRules operatorRules, Collection<Ipv6Cidr> hostAddresses) {
        List<Rule> rules = new ArrayList<>();
        for (Ipv6Cidr cidr : DEFAULT_DENIED) {
            rules.add(new Rule(cidr, false, Origin.DEFAULT));
        }
        for (Ipv6Cidr address : hostAddresses) {
            rules.add(new Rule(new Ipv6Cidr(address.high(), address.low(), 128), false, Origin.HOST_ADDRESS));
        }
        for (Ipv6Cidr cidr : operatorRules.allowIpv6()) {
            rules.add(new Rule(cidr, true, Origin.OPERATOR_ALLOW));
        }
        for (Ipv6Cidr cidr : operatorRules.denyIpv6()) {
            rules.add(new Rule(cidr, false, Origin.OPERATOR_DENY));
        }
        rules.sort(Comparator.comparingInt((Rule r) -> -r.prefix().prefixLength())
                .thenComparingInt(r -> -r.origin().precedence));
        return new Ipv6EgressPolicy(rules);
    }

    /** {@link #create} with the IPv6 addresses of this host's interfaces, enumerated now. */
    public static Ipv6EgressPolicy forThisHost(EgressRules operatorRules) {
        return create(operatorRules, hostAddresses());
    }

    /** Every IPv6 address on this host's interfaces (in the calling thread's network namespace). */
    public static Set<Ipv6Cidr> hostAddresses() {
        Set<Ipv6Cidr> addresses = new LinkedHashSet<>();
        try {
            var interfaces = NetworkInterface.getNetworkInterfaces();
            while (interfaces != null && interfaces.hasMoreElements()) {
                var addressList = interfaces.nextElement().getInetAddresses();
                while (addressList.hasMoreElements()) {
                    InetAddress address = addressList.nextElement();
                    if (address instanceof Inet6Address) {
                        ByteBuffer bytes = ByteBuffer.wrap(address.getAddress());
                        addresses.add(new Ipv6Cidr(bytes.getLong(0), bytes.getLong(8), 128));
                    }
                }
            }
        } catch (SocketException e) {
            throw new IllegalStateException("cannot enumerate the host's interfaces for the egress policy", e);
        }
        return addresses;
    }

    /** Whether a VM may send to the address {@code high}:{@code low}. No allocation. */
    public boolean allows(long high, long low) {
        for (int i = 0; i < highs.length; i++) {
            if ((high & highMasks[i]) == highs[i] && (low & lowMasks[i]) == lows[i]) {
                return allows[i];
            }
        }
        return true;
    }

    /** One start-up line, as {@link EgressPolicy#summary()} for IPv6. */
    public String summary() {
        Map<Ipv6Cidr, Rule> deciding = new LinkedHashMap<>();
        for (Rule rule : rules) {
            deciding.putIfAbsent(rule.prefix(), rule);
        }
        List<Rule> byAddress = new ArrayList<>(deciding.values());
        byAddress.sort(Comparator.comparing((Rule r) -> r.prefix().high(), Long::compareUnsigned)
                .thenComparing(r -> r.prefix().low(), Long::compareUnsigned)
                .thenComparingInt(r -> r.prefix().prefixLength()));
        List<String> denied = new ArrayList<>();
        List<String> operatorAllowed = new ArrayList<>();
        List<String> operatorDenied = new ArrayList<>();
        boolean hostAddressDenied = false;
        for (Rule rule : byAddress) {
            switch (rule.origin()) {
                case DEFAULT -> denied.add(rule.prefix().toString());
                case HOST_ADDRESS -> hostAddressDenied = true;
                case OPERATOR_ALLOW -> operatorAllowed.add(rule.prefix().toString());
                case OPERATOR_DENY -> operatorDenied.add(rule.prefix().toString());
            }
        }
        Rule everything = deciding.get(new Ipv6Cidr(0, 0, 0));
        return EgressSummary.line("Egress IPv6", everything != null && !everything.allow(), denied,
                hostAddressDenied, operatorAllowed, operatorDenied);
    }
}
