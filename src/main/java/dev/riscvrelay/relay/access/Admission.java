package dev.riscvrelay.relay.access;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.switching.Switch;

/** What a {@link SessionGate} decided about one session request. */
public sealed interface Admission {

    /**
     * The session may join {@code lan}; its frames pass {@code guard} first, {@code addresses} gives its VM an
     * address when its client asks without DHCP, and {@code release} runs once when the session ends (it frees the
     * session's place in the per-address count).
     */
    record Admitted(Switch lan, IngressGuard guard, Runnable release, AddressAssignment addresses)
            implements Admission {

        /** A session whose clients get no address but by DHCP. */
        public Admitted(Switch lan, IngressGuard guard, Runnable release) {
            this(lan, guard, release, AddressAssignment.NONE);
        }
    }

    /** The session is refused with this HTTP status; {@code reason} is the counter to increment. */
    record Refused(int status, Counter reason) implements Admission {
    }
}
