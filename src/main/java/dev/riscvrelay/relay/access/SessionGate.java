package dev.riscvrelay.relay.access;

import dev.riscvrelay.relay.switching.Switch;
import java.net.InetAddress;

/**
 * Decides, when a WebTransport CONNECT or a WebSocket upgrade arrives, which LAN the new session joins or why it
 * may not. Called on the event loop that owns every LAN.
 */
public interface SessionGate {

    /**
     * @param pathAndQuery the request target, e.g. {@code /net/lab?token=abc}
     * @param peer the source address of the connection
     */
    Admission admit(String pathAndQuery, InetAddress peer);

    /** A gate that lets every session onto one LAN, with no limits (tests, benchmarks, embedding). */
    static SessionGate open(Switch lan) {
        return (pathAndQuery, peer) -> new Admission.Admitted(lan, IngressGuard.UNGUARDED, () -> { });
    }
}
