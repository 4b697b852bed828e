package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.testbed.PingTimes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The cluster part of BENCHMARKS.md: two relays on NATS against one relay, same run. */
final class ClusterReport {

    /** Host to host across two relays: at least this share of the same on one relay. */
    static final double THROUGHPUT_TARGET = 0.5;
    /** What the trunk may add to the ping time at p50. */
    static final double ADDED_P50_TARGET_MILLIS = 1.0;

    private ClusterReport() {
    }

    static void verdicts(ClusterBench.Results cluster, List<BenchReport.Verdict> verdicts) {
        for (ClusterBench.Transfer transfer : ClusterBench.Transfer.values()) {
            NatBench.Stat one = cluster.stat(ClusterBench.Placement.ONE_RELAY, transfer);
            NatBench.Stat two = cluster.stat(ClusterBench.Placement.TWO_RELAYS, transfer);
            double ratio = cluster.twoOverOne(transfer);
            verdicts.add(new BenchReport.Verdict(String.format(Locale.ROOT, "Cluster %s (%d MB), hosts on two "
                    + "relays ≥ %.1f× on one relay", transfer.label, cluster.plan().bytes() >> 20, THROUGHPUT_TARGET),
                    BenchReport.orDash("%,.0f Mbit/s", two.median()) + " = " + BenchReport.times(ratio),
                    "one relay " + BenchReport.orDash("%,.0f Mbit/s", one.median()), ratio >= THROUGHPUT_TARGET));
        }
        PingTimes one = cluster.pings().get(ClusterBench.Placement.ONE_RELAY);
        PingTimes two = cluster.pings().get(ClusterBench.Placement.TWO_RELAYS);
        if (one != null && two != null) {
            double added = cluster.addedMillis(50);
            verdicts.add(new BenchReport.Verdict(String.format(Locale.ROOT, "Cluster ping host to host: two relays "
                    + "add < %.0f ms at p50", ADDED_P50_TARGET_MILLIS),
                    String.format(Locale.ROOT, "+%s at p50, +%s at p99 (%s, %s)", FieldReport.millis(added),
                            FieldReport.millis(cluster.addedMillis(99)), FieldReport.millis(two.percentile(50)),
                            FieldReport.millis(two.percentile(99))),
                    "one relay p50 " + FieldReport.millis(one.percentile(50)) + ", p99 "
                            + FieldReport.millis(one.percentile(99)),
                    two.answered() == two.sent() && added < ADDED_P50_TARGET_MILLIS));
        }
    }

    static void section(StringBuilder md, ClusterBench.Results cluster) {
        md.append("## Cluster: host to host across two relays on NATS\n\n").append(cluster.method()).append("\n\n");
        md.append("Mbit/s, median (min..max) of ").append(cluster.plan().rounds()).append(" round(s) of ")
                .append(cluster.plan().bytes() >> 20).append(" MB.\n\n");
        md.append("| transfer | one relay | two relays | two ÷ one |\n|---|---|---|---|\n");
        for (ClusterBench.Transfer transfer : ClusterBench.Transfer.values()) {
            md.append("| ").append(transfer.label).append(" | ")
                    .append(BenchReport.rate(cluster.stat(ClusterBench.Placement.ONE_RELAY, transfer))).append(" | ")
                    .append(BenchReport.rate(cluster.stat(ClusterBench.Placement.TWO_RELAYS, transfer))).append(" | ")
                    .append(BenchReport.times(cluster.twoOverOne(transfer))).append(" |\n");
        }
        md.append("\n| ping host a to | answered | p50 | p99 | max |\n|---|---|---|---|---|\n");
        cluster.pings().forEach((placement, t) -> md.append("| ").append(placement.label).append(" | ")
                .append(t.answered()).append('/').append(t.sent()).append(" | ").append(FieldReport.millis(
                        t.percentile(50))).append(" | ").append(FieldReport.millis(t.percentile(99))).append(" | ")
                .append(FieldReport.millis(t.max())).append(" |\n"));
        md.append("\n| relay | trunk frames/s out | trunk frames/s in | frames a message |\n|---|---|---|---|\n");
        for (ClusterBench.TrunkRate rate : cluster.trunk()) {
            md.append(String.format(Locale.ROOT, "| %s | %,.0f | %,.0f | %.1f |%n", rate.relay(),
                    rate.framesOutPerSecond(), rate.framesInPerSecond(), rate.framesPerMessage()));
        }
        md.append('\n');
        List<String> failures = new ArrayList<>();
        cluster.transfers().forEach((placement, byTransfer) -> byTransfer.forEach((transfer, stat) -> stat.errors()
                .forEach(error -> failures.add(placement.label + ", " + transfer.label + ": " + error))));
        if (!failures.isEmpty()) {
            md.append("Failed transfers (left out of the medians):\n\n");
            failures.forEach(failure -> md.append("- ").append(failure.replace('\n', ' ')).append('\n'));
            md.append('\n');
        }
        if (!cluster.relayCounters().isEmpty()) {
            md.append("The relays' non-zero drop counters after the cluster part (their `/metrics`):\n\n```\n");
            cluster.relayCounters().forEach(line -> md.append(line).append('\n'));
            md.append("```\n\n");
        }
    }
}
