package dev.riscvrelay.relay;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * The relay's TCP side: the WebSocket transport on the relay's port number, and the optional demo web server.
 *
 * @param webSocket whether and how the TCP listener on the relay's port speaks WebSocket
 * @param demoAddress where the demo page is served over plain HTTP, or null for nowhere
 * @param v86Directory the emulator and VM image files served under {@code /v86/}, or null
 * @param pageRelays the relays the demo page tries after its own, in this order ({@code https://HOST:PORT/}, e.g.
 *     the other relays of a cluster); empty: its own relay only
 */
public record WebOptions(WebSocketMode webSocket, InetSocketAddress demoAddress, Path v86Directory,
        List<URI> pageRelays) {

    public WebOptions {
        pageRelays = List.copyOf(pageRelays);
    }

    public WebOptions(WebSocketMode webSocket, InetSocketAddress demoAddress, Path v86Directory) {
        this(webSocket, demoAddress, v86Directory, List.of());
    }

    /** How the TCP listener on the relay's port carries WebSocket. */
    public enum WebSocketMode {
        /** Plain {@code ws://} when bound to a loopback address, TLS ({@code wss://}) otherwise. */
        AUTO,
        /** {@code wss://} with the relay's certificate. */
        TLS,
        /** {@code ws://} without TLS, even on a non-loopback address (an explicit choice). */
        PLAIN,
        /** No TCP listener. */
        OFF;

        /** The mode in force on {@code bind}: AUTO becomes PLAIN on loopback, TLS elsewhere. */
        public WebSocketMode resolve(InetAddress bind) {
            if (this != AUTO) {
                return this;
            }
            return bind.isLoopbackAddress() ? PLAIN : TLS;
        }
    }

    public static WebOptions defaults() {
        return new WebOptions(WebSocketMode.AUTO, null, null);
    }
}
