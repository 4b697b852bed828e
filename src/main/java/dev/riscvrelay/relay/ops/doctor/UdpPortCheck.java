package dev.riscvrelay.relay.ops.doctor;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/** The relay listens on UDP {@code --port} (and TCP on the same number for WebSocket): is it free, or served? */
public final class UdpPortCheck implements Check {

    static final String NAME = "port";
    private final InetAddress bind;
    private final int port;
    private final InetSocketAddress admin;

    /** @param admin where a relay already running would answer {@code /healthz}; null: not asked */
    public UdpPortCheck(InetAddress bind, int port, InetSocketAddress admin) {
        this.bind = bind;
        this.port = port;
        this.admin = admin;
    }

    @Override
    public Finding run(HostFacts host) {
        String where = bind.getHostAddress() + ":" + port;
        if (host.portFree(bind, port)) {
            return Finding.ok(NAME, "udp and tcp " + where + " are free");
        }
        if (admin != null && host.relayAnswers(admin)) {
            return Finding.warn(NAME, where + " is in use by a relay already running (its admin server at "
                    + admin.getAddress().getHostAddress() + ":" + admin.getPort() + " answers /healthz)",
                    "nothing, if that relay is the one you want; otherwise stop it or choose another --port");
        }
        return Finding.fail(NAME, where + " is in use by another program: the relay cannot start there",
                "stop that program (ss -lunp 'sport = :" + port + "' names it) or choose another --port");
    }
}
