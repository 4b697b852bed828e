package dev.riscvrelay.relay.switching;

import java.net.InetSocketAddress;
import java.util.function.ObjLongConsumer;

/**
 * A {@link Port} that stands for one client on the LAN (a WebTransport session, a WebSocket), as an operator sees
 * it: how it came, from where, since when, what it lost. Read on the switch's event loop, like every port call.
 */
public interface Member {

    /**
     * How the member reaches the relay: {@code "webtransport"}, {@code "webtransport-framed"} (riscv-vm's framed
     * protocol), {@code "websocket"}, ...
     */
    String transport();

    /** The client's address and port, or null when not known. */
    InetSocketAddress clientAddress();

    /** When the member joined, in milliseconds since the epoch. */
    long connectedSinceMillis();

    /** What {@link #worker()} says of a member whose transport runs on the loop of its LAN (a WebSocket). */
    int LAN_LOOP = -1;

    /** The worker (event loop, {@code --workers}) that carries the member's transport, or {@link #LAN_LOOP}. */
    default int worker() {
        return LAN_LOOP;
    }

    /**
     * The frames of this member dropped so far, by the reason {@code relay_drops_total} names them
     * ({@code "rate_limited"}, {@code "queue_full"}, ...); reasons never counted may be left out.
     */
    void forEachDrop(ObjLongConsumer<String> reasonAndCount);

    /** Ends the member's session (it may reconnect); {@code reason} is what its client is told, where it can be. */
    void disconnect(String reason);
}
