package dev.riscvrelay.relay.ops.doctor;

/**
 * UDP GSO sends a flush's QUIC packets in one system call and GRO receives a burst in one: without them the relay
 * works, at a higher CPU cost per packet.
 */
public final class UdpOffloadCheck implements Check {

    static final String NAME = "udp gso/gro";

    @Override
    public Finding run(HostFacts host) {
        boolean gso = host.udpGso();
        boolean gro = host.udpGro();
        if (gso && gro) {
            return Finding.ok(NAME, "UDP GSO and GRO are available: bursts cost one system call each way");
        }
        String missing = !gso && !gro ? "GSO and GRO are" : !gso ? "GSO is" : "GRO is";
        return Finding.warn(NAME, "UDP " + missing + " not available: every QUIC packet costs a system call",
                "Linux with the epoll transport (x86_64 or aarch64) and a kernel of 5.0 or later (GSO came in 4.18, "
                        + "GRO in 5.0)");
    }
}
