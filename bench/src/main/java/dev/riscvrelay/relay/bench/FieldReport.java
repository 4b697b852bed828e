package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.testbed.PingTimes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The field part of BENCHMARKS.md: its verdicts and its section, each figure beside its same-run baseline. */
final class FieldReport {

    private FieldReport() {
    }

    /**
     * The field part: host to host across the clean link against loopback, the internet profile's share of its cap,
     * every lossy transfer byte-exact, the ping percentiles through the relay (beside the plain veth's).
     */
    static void verdicts(FieldBench.Results field, List<BenchReport.Verdict> verdicts) {
        for (FieldBench.Transfer transfer : List.of(FieldBench.Transfer.A_TO_B, FieldBench.Transfer.B_TO_A)) {
            NatBench.Stat loopback = field.stat(FieldBench.Setup.LOOPBACK, transfer);
            NatBench.Stat clean = field.stat(FieldBench.Setup.CLEAN, transfer);
            if (loopback.samples().isEmpty() && clean.samples().isEmpty()) {
                continue;
            }
            double ratio = field.cleanOverLoopback(transfer);
            verdicts.add(new BenchReport.Verdict(String.format(Locale.ROOT, "Field %s (%d MB), two connectors across the "
                    + "clean link ≥ %.1f× all on loopback", transfer.label, field.plan().hostBytes() >> 20,
                    BenchReport.FIELD_CLEAN_TARGET),
                    BenchReport.orDash("%,.0f Mbit/s", clean.median()) + " = " + BenchReport.times(ratio),
                    "loopback " + BenchReport.orDash("%,.0f Mbit/s", loopback.median()), ratio >= BenchReport.FIELD_CLEAN_TARGET));
        }
        for (FieldBench.Transfer transfer : FieldBench.Transfer.values()) {
            NatBench.Stat stat = field.stat(FieldBench.Setup.INTERNET, transfer);
            if (stat.samples().isEmpty()) {
                continue;
            }
            double share = field.shareOfCap(FieldBench.Setup.INTERNET, transfer);
            verdicts.add(new BenchReport.Verdict(String.format(Locale.ROOT, "Field internet profile: %s (%s) sha-exact at "
                    + "≥ %.0f%% of %.0f Mbit/s", transfer.label, FieldBench.megabytes(field.plan().internetBytes()),
                    BenchReport.FIELD_INTERNET_TARGET * 100, FieldBench.Setup.INTERNET.capMegabits()),
                    stat.errors().isEmpty() ? String.format(Locale.ROOT, "%,.1f Mbit/s = %.0f%%%s", stat.median(),
                            share * 100, medianOf(stat)) : "failed: " + stat.errors().getFirst(),
                    "the profile's cap", stat.errors().isEmpty() && share >= BenchReport.FIELD_INTERNET_TARGET));
        }
        List<String> lossyRates = new ArrayList<>();
        List<String> lossyErrors = new ArrayList<>();
        for (FieldBench.Transfer transfer : FieldBench.Transfer.values()) {
            NatBench.Stat stat = field.stat(FieldBench.Setup.LOSSY, transfer);
            if (!stat.samples().isEmpty()) {
                lossyRates.add(transfer.label + " " + BenchReport.orDash("%,.1f Mbit/s", stat.median())
                        + medianOf(stat));
                lossyErrors.addAll(stat.errors());
            }
        }
        if (!lossyRates.isEmpty()) {
            verdicts.add(new BenchReport.Verdict("Field lossy profile: every transfer (" + FieldBench.megabytes(
                    field.plan().lossyBytes()) + ") sha-exact",
                    lossyErrors.isEmpty() ? String.join("; ", lossyRates)
                            : lossyErrors.size() + " failed: " + lossyErrors.getFirst(),
                    String.format(Locale.ROOT, "cap %.0f Mbit/s", FieldBench.Setup.LOSSY.capMegabits()),
                    lossyErrors.isEmpty()));
        }
        for (FieldBench.Load load : FieldBench.Load.values()) {
            Optional<FieldBench.PingRow> relay = field.ping(FieldBench.GATEWAY, load);
            if (relay.isEmpty() || !load.target) {
                continue;
            }
            PingTimes times = relay.get().times();
            Optional<FieldBench.PingRow> veth = field.ping(FieldBench.PLAIN_VETH, load);
            Optional<FieldBench.PingRow> slirp = field.ping(FieldBench.SLIRP_GATEWAY, load);
            Optional<FieldBench.PingRow> floor = field.ping(FieldBench.FLOOR_GATEWAY, load);
            verdicts.add(new BenchReport.Verdict(String.format(Locale.ROOT, "Field ping 10.0.2.2 across the clean link, %s: "
                    + "p50 ≤ %.1f ms, p99 ≤ %.0f ms", load.label, BenchReport.PING_P50_TARGET_MILLIS,
                    BenchReport.PING_P99_TARGET_MILLIS),
                    pingSummary(times), veth.map(v -> "plain veth " + pingSummary(v.times())).orElse("-")
                            + floor.map(v -> "; the ping floor (same path, plain UDP, Java) "
                                    + (load == FieldBench.Load.IDLE ? "" : load.label + " through the relay: ")
                                    + pingSummary(v.times())).orElse("")
                            + slirp.map(v -> "; slirp4netns " + pingSummary(v.times())).orElse("")
                            + (load == FieldBench.Load.IDLE
                                    ? String.format(Locale.ROOT, "; a busy loop on this machine's CPUs stalls up "
                                            + "to %.2f ms quiet, %.2f ms with the bed idle",
                                            field.stalls().quiet().maxMillis(), field.stalls().bedIdle().maxMillis())
                                    : ""),
                    times.percentile(50) <= BenchReport.PING_P50_TARGET_MILLIS && times.percentile(99) <= BenchReport.PING_P99_TARGET_MILLIS));
        }
    }

    private static String pingSummary(PingTimes times) {
        return String.format(Locale.ROOT, "p50 %s, p99 %s (%d/%d answered)", millis(times.percentile(50)),
                millis(times.percentile(99)), times.answered(), times.sent());
    }

    static String millis(double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.3f ms", value);
    }

    static void section(StringBuilder md, FieldBench.Results field) {
        md.append("## Field: the relay across 1500-MTU links\n\n").append(field.method()).append("\n\n");
        for (FieldBench.Setup setup : FieldBench.Setup.values()) {
            Integer mtu = field.tapMtus().get(setup);
            if (mtu != null) {
                md.append("- ").append(setup.label).append(": the connectors' TAP MTU ").append(mtu).append('\n');
            }
        }
        for (String note : field.notes()) {
            md.append("- ").append(note).append('\n');
        }
        md.append("\n### Host to host: two connectors across the clean link against all on loopback\n\n");
        md.append("Mbit/s, median (min..max) of ").append(field.plan().rounds()).append(" round(s) of ")
                .append(field.plan().hostBytes() >> 20).append(" MB.\n\n");
        md.append("| transfer | all on loopback | across the clean link | clean ÷ loopback |\n|---|---|---|---|\n");
        for (FieldBench.Transfer transfer : List.of(FieldBench.Transfer.A_TO_B, FieldBench.Transfer.B_TO_A)) {
            md.append("| ").append(transfer.label).append(" | ")
                    .append(BenchReport.rate(field.stat(FieldBench.Setup.LOOPBACK, transfer))).append(" | ")
                    .append(BenchReport.rate(field.stat(FieldBench.Setup.CLEAN, transfer))).append(" | ")
                    .append(BenchReport.times(field.cleanOverLoopback(transfer))).append(" |\n");
        }
        md.append("\n### Behind impaired links\n\n");
        md.append("Mbit/s, median (min..max) of ").append(field.plan().impairedRounds())
                .append(" sha256-checked transfer(s) each (the clean link's one at ")
                .append(field.plan().hostBytes() >> 20).append(" MB, for comparison), and the share of the "
                        + "profile's rate cap; the cap counts UDP payload bytes, so the HTTP body can reach "
                        + "about 92% of it at most (1356 bytes of TCP payload per 1472-byte QUIC packet: QUIC, "
                        + "HTTP/3 datagram, link recovery, Ethernet, IP and TCP headers).\n\n");
        md.append("| link | size |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (FieldBench.Transfer transfer : FieldBench.Transfer.values()) {
            md.append(' ').append(transfer.label).append(" |");
            rule.append("---|");
        }
        md.append('\n').append(rule).append('\n');
        for (FieldBench.Setup setup : List.of(FieldBench.Setup.CLEAN, FieldBench.Setup.INTERNET,
                FieldBench.Setup.LOSSY)) {
            md.append("| ").append(setup.label).append(" | ").append(FieldBench.megabytes(field.plan().bytes(setup)))
                    .append(" |");
            for (FieldBench.Transfer transfer : FieldBench.Transfer.values()) {
                NatBench.Stat stat = field.stat(setup, transfer);
                String cell = setup == FieldBench.Setup.CLEAN
                        && (transfer == FieldBench.Transfer.A_TO_B || transfer == FieldBench.Transfer.B_TO_A)
                        ? BenchReport.fineRate(stat) + " (median above)" : BenchReport.fineRate(stat);
                double share = field.shareOfCap(setup, transfer);
                md.append(' ').append(cell).append(Double.isNaN(share) ? "" : String.format(Locale.ROOT,
                        " = %.0f%% of %.0f", share * 100, setup.capMegabits())).append(" |");
            }
            md.append('\n');
        }
        md.append('\n');
        if (!field.linkCounters().isEmpty()) {
            md.append("The impaired links' counters after their transfers (datagrams; *lost* by the profile's loss, "
                    + "*queue* dropped at the rate cap's full queue), what their hosts' connectors reported "
                    + "(reconnects, and their last link recovery line), and what each host's kernel dropped at its "
                    + "TAP with the queue to the connector full (a loss its TCP sees; link recovery repairs only the "
                    + "path's):\n\n```\n");
            field.linkCounters().forEach((setup, lines) -> lines.forEach(
                    line -> md.append(setup.profile.cliName()).append(": ").append(line).append('\n')));
            md.append("```\n\n");
        }
        List<String> failures = new ArrayList<>();
        field.transfers().forEach((setup, byTransfer) -> byTransfer.forEach((transfer, stat) -> stat.errors()
                .forEach(error -> failures.add(setup.label + ", " + transfer.label + ": " + error))));
        if (!failures.isEmpty()) {
            md.append("Failed transfers (left out of the medians):\n\n");
            for (String failure : failures) {
                md.append("- ").append(failure.replace('\n', ' ')).append('\n');
            }
            md.append('\n');
        }
        md.append("### Latency across the clean link\n\n");
        md.append("| load | ping to | answered | p50 | p99 | max |\n|---|---|---|---|---|---|\n");
        for (FieldBench.PingRow row : field.pings()) {
            PingTimes t = row.times();
            md.append("| ").append(row.load().label).append(" | ").append(row.target())
                    .append(" | ").append(t.answered()).append('/').append(t.sent()).append(" | ")
                    .append(millis(t.percentile(50))).append(" | ").append(millis(t.percentile(99))).append(" | ")
                    .append(millis(t.max())).append(" |\n");
        }
        md.append('\n');
        md.append("Stalls of a busy loop pinned on each CPU: before the bed started ")
                .append(field.stalls().quiet().summary()).append("; with the bed idle, before the pings ")
                .append(field.stalls().bedIdle().summary()).append(". A ping through the relay needs a CPU "
                        + "several times for a few tenths of a millisecond in all (the connector's and the "
                        + "relay's loops), so now and then it meets such a stall and waits it out; the plain "
                        + "veth's few microseconds in the kernel rarely do. The ping floor wakes the same three "
                        + "threads over the same links with the least code a JVM can run for them: the relay's "
                        + "time above it is what its transport (QUIC, HTTP/3, the event loops) and its switch and "
                        + "gateway cost, the floor's own is the machine's and the JVM's. During a download or an upload "
                        + "through the relay, the floor's pings meet CPUs as busy as the relay's own loaded pings do, "
                        + "with none of the load queued on their path. slirp4netns answers its gateway from "
                        + "the one process that also carries its transfer, with nothing queued between the two.\n\n");
        legs(md, field.legs());
        if (!field.relayCounters().isEmpty()) {
            md.append("The relay's non-zero drop, TCP recovery and link recovery counters after the field part (its `/metrics`):"
                    + "\n\n```\n");
            for (String line : field.relayCounters()) {
                md.append(line).append('\n');
            }
            md.append("```\n\n");
        }
    }

    /** Where the idle ping's time went, leg by leg, through the relay and through the ping floor. */
    private static void legs(StringBuilder md, List<FieldBench.LegsRow> legs) {
        if (legs.isEmpty()) {
            return;
        }
        md.append("Where an idle ping's time goes: one more idle series each, captured with dumpcap on the pinging "
                + "host's TAP and on its uplink veth (the capture copies each packet, so these series run apart from "
                + "the ones above). Each ping splits into three legs: from the TAP to the uplink (the connector, or "
                + "the floor's pump, reads the frame and sends its datagram), from the uplink out to the uplink in "
                + "(the links both ways and the relay, or the floor's gateway), and from the uplink to the TAP (the "
                + "answer written to the TAP). p50 / p90 of each leg:\n\n");
        md.append("| ping to | legs of | TAP → uplink | uplink → far end → uplink | uplink → TAP "
                + "| the series' ping p50 / p90 |\n|---|---|---|---|---|---|\n");
        for (FieldBench.LegsRow row : legs) {
            PingLegs l = row.legs();
            md.append("| ").append(row.target()).append(" | ").append(l.pings()).append(" pings | ")
                    .append(legSummary(l.toWire())).append(" | ").append(legSummary(l.farEnd())).append(" | ")
                    .append(legSummary(l.toTap())).append(" | ").append(millis(row.times().percentile(50)))
                    .append(" / ").append(millis(row.times().percentile(90))).append(" |\n");
        }
        md.append('\n');
    }

    private static String legSummary(double[] leg) {
        return millis(PingLegs.percentile(leg, 50)) + " / " + millis(PingLegs.percentile(leg, 90));
    }

    /** " (median of N)" when a verdict rests on more than one transfer. */
    private static String medianOf(NatBench.Stat stat) {
        int n = stat.succeeded().size();
        return n > 1 ? " (median of " + n + ")" : "";
    }
}
