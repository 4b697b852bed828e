package dev.riscvrelay.relay.ops.doctor;

/** How bad a finding is; {@code relay doctor} exits with the worst one's code. */
public enum Severity {
    /** Nothing to change. */
    OK(0),
    /** The relay runs, but something works worse or not at all (pings, throughput, capacity). */
    WARN(1),
    /** The relay will not start or not serve as asked. */
    FAIL(2);

    private final int exitCode;

    Severity(int exitCode) {
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
