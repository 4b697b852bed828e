package dev.riscvrelay.relay.ops.doctor;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs the checks in order and prints one line per finding ({@code OK}, {@code WARN} or {@code FAIL}, the check,
 * what it found) and, under a warning or failure, what to change. A check that throws is a failure of its own.
 */
public final class Doctor {

    private final List<Check> checks;

    public Doctor(List<Check> checks) {
        this.checks = List.copyOf(checks);
    }

    public List<Finding> examine(HostFacts host) {
        List<Finding> findings = new ArrayList<>(checks.size());
        for (Check check : checks) {
            try {
                findings.add(check.run(host));
            } catch (RuntimeException e) {
                findings.add(Finding.fail(check.getClass().getSimpleName(), "the check itself failed: " + e,
                        "report it"));
            }
        }
        return findings;
    }

    /** Prints the findings; returns the worst one's exit code (0 all OK, 1 a warning, 2 a failure). */
    public static int report(List<Finding> findings, PrintWriter out) {
        Severity worst = Severity.OK;
        for (Finding finding : findings) {
            out.printf(Locale.ROOT, "%-4s %-13s %s%n", finding.severity(), finding.check(), finding.what());
            if (!finding.fix().isEmpty()) {
                out.printf(Locale.ROOT, "     %-13s change: %s%n", "", finding.fix());
            }
            if (finding.severity().compareTo(worst) > 0) {
                worst = finding.severity();
            }
        }
        out.flush();
        return worst.exitCode();
    }
}
