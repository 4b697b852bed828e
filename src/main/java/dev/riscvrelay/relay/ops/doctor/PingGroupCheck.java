package dev.riscvrelay.relay.ops.doctor;

import java.util.Optional;

/**
 * Ping to the outside needs unprivileged ICMP echo sockets, which Linux allows only to groups inside
 * {@code net.ipv4.ping_group_range}; without them the relay runs but drops VMs' pings to the outside.
 */
public final class PingGroupCheck implements Check {

    static final String NAME = "ping sockets";
    static final String SYSCTL = "net.ipv4.ping_group_range";
    private static final String FIX = "sysctl -w " + SYSCTL + "=\"0 2147483647\" (keep it in /etc/sysctl.d/; "
            + "Docker sets it in containers), or run the relay in a group inside the range";

    @Override
    public Finding run(HostFacts host) {
        Optional<String> range = host.sysctl(SYSCTL);
        if (range.isEmpty()) {
            return Finding.warn(NAME, SYSCTL + " does not exist: this kernel has no unprivileged ping sockets, "
                    + "so pings from VMs to the outside are dropped", "a Linux kernel 3.0 or later");
        }
        String[] bounds = range.get().trim().split("\\s+");
        long low = Long.parseLong(bounds[0]);
        long high = Long.parseLong(bounds[1]);
        for (long group : host.groups()) {
            if (group >= low && group <= high) {
                return Finding.ok(NAME, SYSCTL + " \"" + low + " " + high + "\" includes group " + group
                        + " of this user");
            }
        }
        return Finding.warn(NAME, SYSCTL + " \"" + low + " " + high + "\" includes none of this user's groups "
                + host.groups() + ": pings from VMs to the outside are dropped (relay_drops_total{reason="
                + "\"nat_icmp_disabled\"})", FIX);
    }
}
