package dev.riscvrelay.relay.nat.tcp;

/**
 * An endpoint's one timer: a deadline on the caller's clock (nanoseconds from any origin), or none. What an expiry
 * means is read from the connection's state when it comes: resend the SYN-ACK, retransmit from SND.UNA, probe a
 * closed window or end TIME_WAIT. Moving the deadline is a field write; whoever runs the endpoint keeps one real
 * timer at {@link #deadline()} and calls the endpoint when it passes.
 */
final class TcpTimer {

    /** No deadline. */
    static final long NONE = Long.MIN_VALUE;

    private long deadline = NONE;

    void arm(long at) {
        deadline = at;
    }

    void disarm() {
        deadline = NONE;
    }

    boolean armed() {
        return deadline != NONE;
    }

    /** When the endpoint next needs to run, or {@link #NONE}. */
    long deadline() {
        return deadline;
    }

    /** Whether the deadline has come by {@code now}; if so the timer is disarmed and the caller handles it. */
    boolean expire(long now) {
        if (deadline == NONE || now - deadline < 0) {
            return false;
        }
        deadline = NONE;
        return true;
    }
}
