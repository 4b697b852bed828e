package dev.riscvrelay.relay.cluster;

import java.time.Duration;

/**
 * How the relay waits for JetStream: a NATS cluster that has just started answers core NATS at once but JetStream
 * only once its nodes have elected a leader, a few seconds later, so a first timeout is worth another try.
 */
final class JetStreamRetries {

    static final int ATTEMPTS = 6;
    static final Duration PAUSE = Duration.ofSeconds(2);

    private JetStreamRetries() {
    }

    /** Waits {@link #PAUSE}; false when interrupted (the relay is stopping). */
    static boolean pause() {
        try {
            Thread.sleep(PAUSE);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
