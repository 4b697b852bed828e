package dev.riscvrelay.relay.nat;

import java.util.List;

/** The one start-up line that states an egress policy, for either address family. */
final class EgressSummary {

    private EgressSummary() {
    }

    /**
     * @param label {@code "Egress"} or {@code "Egress IPv6"}
     * @param denyEverything whether a rule for the whole address space denies (then only allows get through)
     * @param denied the default ranges still denied, in address order
     * @param hostAddressDenied whether the host's own addresses are denied
     */
    static String line(String label, boolean denyEverything, List<String> denied, boolean hostAddressDenied,
            List<String> operatorAllowed, List<String> operatorDenied) {
        StringBuilder line = new StringBuilder(label).append(": VMs reach ")
                .append(denyEverything ? "only what --allow opens" : "the public internet");
        if (!denied.isEmpty() || hostAddressDenied) {
            line.append("; denied: ").append(String.join(", ", denied));
            if (hostAddressDenied) {
                line.append(denied.isEmpty() ? "" : ", ").append("this host's own addresses");
            }
        }
        if (!operatorAllowed.isEmpty()) {
            line.append("; allowed by --allow: ").append(String.join(", ", operatorAllowed));
        }
        if (!operatorDenied.isEmpty()) {
            line.append("; denied by --deny: ").append(String.join(", ", operatorDenied));
        }
        return line.append(" (change with --allow/--deny)").toString();
    }
}
