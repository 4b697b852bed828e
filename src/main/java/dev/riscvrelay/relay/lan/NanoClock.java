package dev.riscvrelay.relay.lan;

/**
 * The one clock of the data plane: monotonic nanoseconds, injected wherever something ages or times out (MAC
 * entries, leases, DNS queries, NAT flows, rate limits), so tests drive time instead of sleeping.
 */
@FunctionalInterface
public interface NanoClock {

    NanoClock SYSTEM = System::nanoTime;

    /** Now, in nanoseconds of an arbitrary origin, like {@link System#nanoTime()}: compare by difference only. */
    long nanoTime();
}
