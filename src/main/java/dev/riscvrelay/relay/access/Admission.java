package dev.riscvrelay.relay.access;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.switching.Switch;

/** What a {@link SessionGate} decided about one session request. */
public sealed interface Admission {

    /**
     * The session may join {@code lan}; its frames pass {@code guard} first, and {@code release} runs once when
     * the session ends (it frees the session's place in the per-address count).
     */
    record Admitted(Switch lan, IngressGuard guard, Runnable release) implements Admission {
    }

    /** The session is refused with this HTTP status; {@code reason} is the counter to increment. */
    record Refused(int status, Counter reason) implements Admission {
    }
}
