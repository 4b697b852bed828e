package dev.riscvrelay.relay.access;

/**
 * A token bucket: {@code rate} tokens per second, holding at most {@code capacity}. Time comes from the caller (a
 * monotonic nanosecond clock), so tests drive it. Not thread-safe: one owner.
 */
final class TokenBucket {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long rate;
    private final long capacity;
    private long tokens;
    private long lastRefill;

    TokenBucket(long ratePerSecond, long capacity, long now) {
        this.rate = ratePerSecond;
        this.capacity = capacity;
        this.tokens = capacity;
        this.lastRefill = now;
    }

    /** Whether {@code amount} tokens are there now; takes them if so. */
    boolean tryTake(long amount, long now) {
        refill(now);
        if (tokens < amount) {
            return false;
        }
        tokens -= amount;
        return true;
    }

    /** Whether {@code amount} tokens are there, without taking them. */
    boolean has(long amount, long now) {
        refill(now);
        return tokens >= amount;
    }

    private void refill(long now) {
        long elapsed = now - lastRefill;
        if (elapsed <= 0) {
            return;
        }
        // Whole tokens only; the remainder of the interval stays for the next refill. Capped first to avoid overflow.
        long earned = elapsed >= NANOS_PER_SECOND ? capacity : elapsed * rate / NANOS_PER_SECOND;
        if (earned == 0) {
            return;
        }
        tokens = Math.min(capacity, tokens + earned);
        lastRefill = earned >= capacity ? now : lastRefill + earned * NANOS_PER_SECOND / rate;
    }
}
