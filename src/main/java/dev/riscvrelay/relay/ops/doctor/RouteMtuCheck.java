package dev.riscvrelay.relay.ops.doctor;

import java.util.Optional;

/**
 * The MTU on the way out: QUIC needs 1200-byte UDP payloads (RFC 9000 §14), and the relay sends up to 1472 (a
 * 1500-byte path), which decides how large a frame one datagram carries for connectors.
 */
public final class RouteMtuCheck implements Check {

    static final String NAME = "path mtu";
    /** IPv4 (20) and UDP (8) headers. */
    private static final int HEADERS = 28;

    private final int quicMinimumPayload;
    private final int fullPayload;

    /**
     * @param quicMinimumPayload the least UDP payload QUIC works with (1200)
     * @param fullPayload the largest the relay sends (1472)
     */
    public RouteMtuCheck(int quicMinimumPayload, int fullPayload) {
        this.quicMinimumPayload = quicMinimumPayload;
        this.fullPayload = fullPayload;
    }

    @Override
    public Finding run(HostFacts host) {
        Optional<HostFacts.Route> route = host.defaultRoute();
        if (route.isEmpty()) {
            return Finding.warn(NAME, "no IPv4 default route: clients beyond this host's networks cannot reach the "
                    + "relay and VMs reach no outside", "add a default route (ip route add default via GATEWAY)");
        }
        int mtu = route.get().mtu();
        String seen = "the default route through " + route.get().device() + " has MTU " + mtu;
        if (mtu < quicMinimumPayload + HEADERS) {
            return Finding.fail(NAME, seen + ", below the " + (quicMinimumPayload + HEADERS) + " bytes QUIC needs "
                    + "(1200-byte UDP payloads): browsers cannot connect through it",
                    "raise the MTU of " + route.get().device() + " (ip link set " + route.get().device() + " mtu 1500)");
        }
        if (mtu < fullPayload + HEADERS) {
            return Finding.warn(NAME, seen + ": QUIC packets of at most " + (mtu - HEADERS) + " bytes, so connectors "
                    + "get a smaller MTU than across a 1500-byte network",
                    "a 1500-byte MTU on " + route.get().device() + " where the network allows it");
        }
        return Finding.ok(NAME, seen + ": full " + fullPayload + "-byte QUIC packets fit");
    }
}
