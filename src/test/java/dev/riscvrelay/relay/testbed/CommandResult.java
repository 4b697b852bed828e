package dev.riscvrelay.relay.testbed;

import java.util.List;

/** What a command run by the test bed did: its exit code (or timed out), and everything it printed. */
public record CommandResult(List<String> command, int exitCode, boolean timedOut, String stdout, String stderr) {

    public boolean succeeded() {
        return !timedOut && exitCode == 0;
    }

    /** Throws with the full output when the command failed; returns this otherwise, for chaining. */
    public CommandResult orThrow() {
        if (!succeeded()) {
            throw new IllegalStateException(describe());
        }
        return this;
    }

    public String describe() {
        return String.join(" ", command) + (timedOut ? " timed out" : " exited " + exitCode)
                + "\n--- stdout:\n" + stdout + "--- stderr:\n" + stderr;
    }

    /** {@link #describe()} in one line (for a report's note): the output stripped, empty streams left out. */
    public String describeInOneLine() {
        return String.join(" ", command) + (timedOut ? " timed out" : " exited " + exitCode)
                + (stdout.isBlank() ? "" : "; stdout: " + stdout.strip())
                + (stderr.isBlank() ? "" : "; stderr: " + stderr.strip());
    }
}
