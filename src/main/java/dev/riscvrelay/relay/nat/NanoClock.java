package dev.riscvrelay.relay.nat;

/** A monotonic time source in nanoseconds, injected so tests drive expiry without sleeping. */
@FunctionalInterface
public interface NanoClock {

    NanoClock SYSTEM = System::nanoTime;

    long nanoTime();
}
