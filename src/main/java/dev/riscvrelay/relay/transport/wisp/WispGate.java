package dev.riscvrelay.relay.transport.wisp;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.nat.EgressPolicy;
import dev.riscvrelay.relay.nat.HostBudget;
import java.net.InetAddress;
import java.util.function.Supplier;

/**
 * Admits a WISP connection to a network as a session of it: the network's token, the per-address session limit and
 * the network creation limits apply as for WebTransport and WebSocket members. Called on the event loop.
 */
public interface WispGate {

    /**
     * @param network a valid network name
     * @param token the presented token, or null
     * @param peer the client's address
     */
    Decision admitWisp(String network, String token, InetAddress peer);

    /** What the gate decided. */
    sealed interface Decision {
    }

    /**
     * Admitted: streams go through {@code policy}; each takes its host socket and charges its buffered bytes from the
     * account {@code accounts} gives when the stream opens (the client's part of the network's share of the host
     * budget); {@code release} runs once when the connection ends.
     */
    record Admitted(EgressPolicy policy, Supplier<HostBudget.Share.Account> accounts, Runnable release)
            implements Decision {
    }

    /** Refused with this HTTP status; {@code reason} is the counter to increment. */
    record Refused(int status, Counter reason) implements Decision {
    }
}
