package dev.riscvrelay.relay.nat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
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

    private final long[] highs;
    private final long[] lows;
    private final long[] highMasks;
    private final long[] lowMasks;
    private final boolean[] allows;
    private final List<EgressRule<Ipv6Cidr>> rules;

    private Ipv6EgressPolicy(List<EgressRule<Ipv6Cidr>> sorted) {
        rules = sorted;
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
        List<Ipv6Cidr> hosts = hostAddresses.stream()
                .map(address -> new Ipv6Cidr(address.high(), address.low(), 128)).toList();
        return new Ipv6EgressPolicy(EgressRule.of(DEFAULT_DENIED, hosts, operatorRules.allowIpv6(),
                operatorRules.denyIpv6(), Ipv6Cidr::prefixLength));
    }

    /** {@link #create} with the IPv6 addresses of this host's interfaces, enumerated now. */
    public static Ipv6EgressPolicy forThisHost(EgressRules operatorRules) {
        return create(operatorRules, hostAddresses());
    }

    /** Every IPv6 address on this host's interfaces (in the calling thread's network namespace). */
    public static Set<Ipv6Cidr> hostAddresses() {
        Set<Ipv6Cidr> addresses = new LinkedHashSet<>();
        for (InetAddress address : EgressRule.interfaceAddresses()) {
            if (address instanceof Inet6Address) {
                ByteBuffer bytes = ByteBuffer.wrap(address.getAddress());
                addresses.add(new Ipv6Cidr(bytes.getLong(0), bytes.getLong(8), 128));
            }
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
        return EgressRule.summary("Egress IPv6", rules, Comparator.comparing(Ipv6Cidr::high, Long::compareUnsigned)
                .thenComparing(Ipv6Cidr::low, Long::compareUnsigned), new Ipv6Cidr(0, 0, 0));
    }
}
