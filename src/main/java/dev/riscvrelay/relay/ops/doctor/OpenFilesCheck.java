package dev.riscvrelay.relay.ops.doctor;

import dev.riscvrelay.relay.HostBudgets;

/**
 * Every WebSocket member holds a connection and every NAT flow a host socket, each a file descriptor; WebTransport
 * sessions share the UDP socket. Too low a limit refuses members and flows long before {@code --max-sessions}.
 */
public final class OpenFilesCheck implements Check {

    static final String NAME = "open files";
    /** Sockets and files the relay holds whatever its load: the UDP socket, listeners, the JVM's own. */
    static final int BASE = HostBudgets.RESERVED_DESCRIPTORS;

    private final int maxSessions;
    private final int natSockets;

    /**
     * @param maxSessions {@code --max-sessions}
     * @param natSockets the most host sockets one network's NAT holds (UDP and ICMP flows, TCP connections)
     */
    public OpenFilesCheck(int maxSessions, int natSockets) {
        this.maxSessions = maxSessions;
        this.natSockets = natSockets;
    }

    @Override
    public Finding run(HostFacts host) {
        long limit = host.openFileLimit();
        long forSessions = HostBudgets.reservedFor(maxSessions); // the figure the relay's start line uses
        long forAll = forSessions + natSockets;
        String fix = "ulimit -n " + forAll + " before starting it (systemd: LimitNOFILE=" + forAll
                + "; Docker: --ulimit nofile=" + forAll + "), or a lower --max-sessions";
        if (limit < 0) {
            return Finding.ok(NAME, "no limit on open files");
        }
        if (limit < forSessions) {
            return Finding.fail(NAME, "the open-file limit " + limit + " is below --max-sessions " + maxSessions
                    + " plus " + BASE + ": WebSocket members are refused before the session limit", fix);
        }
        if (limit < forAll) {
            return Finding.warn(NAME, "the open-file limit " + limit + " holds --max-sessions " + maxSessions
                    + " but not also the " + natSockets + " NAT sockets one network may open: new flows fail "
                    + "when it is reached", fix);
        }
        return Finding.ok(NAME, "the open-file limit " + limit + " holds --max-sessions " + maxSessions
                + " and one network's " + natSockets + " NAT sockets");
    }
}
