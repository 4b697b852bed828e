package dev.riscvrelay.relay.connect;

import java.time.Duration;

/**
 * Exponential backoff with a cap: {@code initial}, twice that, ... up to {@code cap}, then {@code cap} until
 * {@link #reset()}. Plain state, no clock and no threads: the caller schedules the waits it hands out.
 */
public final class Backoff {

    private final Duration initial;
    private final Duration cap;
    private Duration next;

    public Backoff(Duration initial, Duration cap) {
        if (initial.isNegative() || initial.isZero() || cap.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < initial <= cap: " + initial + ", " + cap);
        }
        this.initial = initial;
        this.cap = cap;
        this.next = initial;
    }

    /** The wait before the next attempt; the one after it is twice as long, at most the cap. */
    public Duration next() {
        Duration wait = next;
        Duration doubled = next.multipliedBy(2);
        next = doubled.compareTo(cap) > 0 ? cap : doubled;
        return wait;
    }

    /** After a success: the next failure waits {@code initial} again. */
    public void reset() {
        next = initial;
    }

    /** A wait as a person reads it: "0.5 s", "2 s". */
    public static String describe(Duration wait) {
        long millis = wait.toMillis();
        if (millis % 1000 == 0) {
            return millis / 1000 + " s";
        }
        return String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
