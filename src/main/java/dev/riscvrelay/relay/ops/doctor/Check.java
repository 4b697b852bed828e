package dev.riscvrelay.relay.ops.doctor;

/** One thing {@code relay doctor} looks at. */
@FunctionalInterface
public interface Check {

    Finding run(HostFacts host);
}
