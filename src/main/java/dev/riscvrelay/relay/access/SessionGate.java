package dev.riscvrelay.relay.access;

import dev.riscvrelay.relay.switching.Switch;
import io.netty.channel.IoEventLoop;
import java.net.InetAddress;

/**
 * Decides, when a WebTransport CONNECT or a WebSocket upgrade arrives, which LAN the new session joins or why it
 * may not. Called on the event loop that owns the LAN the request names ({@link #loopFor}).
 */
public interface SessionGate {

    /**
     * @param pathAndQuery the request target, e.g. {@code /net/lab?token=abc}
     * @param peer the source address of the connection
     */
    Admission admit(String pathAndQuery, InetAddress peer);

    /**
     * The event loop that owns the LAN a request to {@code pathAndQuery} would join: {@link #admit} is asked there,
     * and the session's frames enter the LAN there. Null (the default): the transport's first loop. From any thread.
     */
    default IoEventLoop loopFor(String pathAndQuery) {
        return null;
    }

    /** A gate that lets every session onto one LAN, with no limits (tests, benchmarks, embedding). */
    static SessionGate open(Switch lan) {
        return (pathAndQuery, peer) -> new Admission.Admitted(lan, IngressGuard.UNGUARDED, () -> { });
    }
}
