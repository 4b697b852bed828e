package dev.riscvrelay.relay.nat;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which destinations VMs may reach through the NAT.
 *
 * <p>By default everything public is allowed and these are denied: 0/8, loopback 127/8, RFC 1918 (10/8, 172.16/12,
 * 192.168/16), CGNAT 100.64/10 (RFC 6598), link-local 169.254/16 (cloud metadata services live there), multicast
 * 224/4, reserved 240/4, the limited broadcast 255.255.255.255, the special-purpose ranges that never lead to the
 * internet (IETF protocol assignments 192.0.0.0/24, documentation 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24,
 * benchmarking 198.18.0.0/15; RFC 6890), and every address of the host itself (each as a /32).
 *
 * <p>Rule: <b>the most specific prefix wins</b>. {@code --allow 10.1.0.0/16} opens that part of 10/8; {@code --deny
 * 203.0.113.0/24} closes a public range. On equal prefixes an operator rule beats a default one, and between an
 * operator's allow and deny of the very same prefix, deny wins. An address no rule covers is allowed.
 *
 * <p>Lookup is a scan of a small array sorted by prefix length, longest first: the first match is the answer.
 * Immutable; safe to share.
 */
public final class EgressPolicy {

    /** The ranges denied unless the operator allows them. */
    public static final List<Cidr> DEFAULT_DENIED = List.of(
            Cidr.parse("0.0.0.0/8"),
            Cidr.parse("10.0.0.0/8"),
            Cidr.parse("100.64.0.0/10"),
            Cidr.parse("127.0.0.0/8"),
            Cidr.parse("169.254.0.0/16"),
            Cidr.parse("172.16.0.0/12"),
            Cidr.parse("192.0.0.0/24"),
            Cidr.parse("192.0.2.0/24"),
            Cidr.parse("192.168.0.0/16"),
            Cidr.parse("198.18.0.0/15"),
            Cidr.parse("198.51.100.0/24"),
            Cidr.parse("203.0.113.0/24"),
            Cidr.parse("224.0.0.0/4"),
            Cidr.parse("240.0.0.0/4"),
            Cidr.parse("255.255.255.255/32"));

    private final int[] networks;
    private final int[] masks;
    private final boolean[] allows;
    private final List<EgressRule<Cidr>> rules;

    private EgressPolicy(List<EgressRule<Cidr>> sorted) {
        this.rules = sorted;
        int n = sorted.size();
        networks = new int[n];
        masks = new int[n];
        allows = new boolean[n];
        for (int i = 0; i < n; i++) {
            EgressRule<Cidr> rule = sorted.get(i);
            networks[i] = rule.prefix().network();
            masks[i] = rule.prefix().mask();
            allows[i] = rule.allow();
        }
    }

    /** The defaults plus the host's own addresses, changed by the operator's rules. */
    public static EgressPolicy create(EgressRules operatorRules, Collection<Integer> hostAddresses) {
        List<Cidr> hosts = hostAddresses.stream().map(address -> new Cidr(address, 32)).toList();
        return new EgressPolicy(EgressRule.of(DEFAULT_DENIED, hosts, operatorRules.allow(), operatorRules.deny(),
                Cidr::prefixLength));
    }

    /** {@link #create} with the addresses of this host's interfaces, enumerated now. */
    public static EgressPolicy forThisHost(EgressRules operatorRules) {
        return create(operatorRules, hostAddresses());
    }

    /** Every IPv4 address on this host's interfaces (in the calling thread's network namespace). */
    public static Set<Integer> hostAddresses() {
        Set<Integer> addresses = new TreeSet<>();
        for (InetAddress address : EgressRule.interfaceAddresses()) {
            if (address instanceof Inet4Address) {
                byte[] b = address.getAddress();
                addresses.add((b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF));
            }
        }
        return addresses;
    }

    /** Whether a VM may send to {@code destination} (network order int). No allocation. */
    public boolean allows(int destination) {
        for (int i = 0; i < networks.length; i++) {
            if ((destination & masks[i]) == networks[i]) {
                return allows[i];
            }
        }
        return true;
    }

    /**
     * One line for the relay's startup output, so an operator testing with, say, 203.0.113.x sees why VMs cannot
     * reach it: the default ranges still denied, this host's own addresses, and what {@code --allow}/{@code --deny}
     * changed, each in address order. A rule another one of the same prefix overrides (an {@code --allow} of exactly
     * a default range, a {@code --deny} of the same prefix as an {@code --allow}) is left out, as lookup ignores it.
     */
    public String summary() {
        return EgressRule.summary("Egress", rules,
                Comparator.comparingLong((Cidr c) -> Integer.toUnsignedLong(c.network())), new Cidr(0, 0));
    }

    /** The rules in lookup order, for logs and {@code --help}-style reports. */
    public List<String> describe() {
        List<String> lines = new ArrayList<>(rules.size());
        for (EgressRule<Cidr> rule : rules) {
            String origin = rule.origin() == EgressRule.Origin.OPERATOR_ALLOW
                    || rule.origin() == EgressRule.Origin.OPERATOR_DENY
                    ? "operator" : "default";
            lines.add((rule.allow() ? "allow " : "deny  ") + rule.prefix() + " (" + origin + ")");
        }
        return lines;
    }
}
