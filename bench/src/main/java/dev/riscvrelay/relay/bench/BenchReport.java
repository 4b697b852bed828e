package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.bench.SwitchBench.LatencyRow;
import dev.riscvrelay.relay.bench.SwitchBench.PeakRow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Writes BENCHMARKS.md and its charts from one run's results: each figure beside its same-run baseline. */
public final class BenchReport {

    public static final String RELAY = "relay";
    public static final String QUIC = "QUIC datagrams";
    public static final String UDP = "plain UDP";

    /** The throughput target: the relay forwards at least this share of the plain UDP forwarder's frames/s. */
    public static final double THROUGHPUT_TARGET = 0.5;
    public static final int THROUGHPUT_TARGET_SIZE = 1200;
    /** The latency target: p99 through the relay at 50% of its peak below this. */
    public static final long LATENCY_TARGET_NANOS = 1_000_000;
    public static final double LATENCY_TARGET_FRACTION = 0.5;
    public static final long IDLE_SESSION_TARGET_BYTES = 100 * 1024;
    /** The NAT target: bulk TCP through the relay at least as fast as through slirp4netns (MTU 1500), same run. */
    public static final double NAT_TARGET = 1.0;
    /** Host to host through two connectors across the clean 1500-MTU link: this share of the same on loopback. */
    public static final double FIELD_CLEAN_TARGET = 0.9;
    /** Under the internet profile: this share of its rate cap. */
    public static final double FIELD_INTERNET_TARGET = 0.6;
    /** Ping through the relay to the gateway across the clean link, idle and loaded. */
    public static final double PING_P50_TARGET_MILLIS = 0.5;
    public static final double PING_P99_TARGET_MILLIS = 2.0;

    /** Everything one {@code relay bench} run measured; parts not run are null. */
    public record Inputs(String command, String machine, String startedAt, long elapsedSeconds,
            SwitchBench.Results switching, NatBench.Results nat, FieldBench.Results field, ClusterBench.Results cluster,
            WorkersBench.Results workers, ScaleBench.Results scale, MicroBench.Results micro, Profile.Summary profile,
            List<String> notes) {

        /** A run without the workers part. */
        public Inputs(String command, String machine, String startedAt, long elapsedSeconds,
                SwitchBench.Results switching, NatBench.Results nat, FieldBench.Results field,
                ClusterBench.Results cluster, ScaleBench.Results scale, MicroBench.Results micro,
                Profile.Summary profile, List<String> notes) {
            this(command, machine, startedAt, elapsedSeconds, switching, nat, field, cluster, null, scale, micro,
                    profile, notes);
        }
    }

    /** One line of the summary: a target, what was measured and whether it is met. */
    public record Verdict(String target, String measured, String baseline, boolean met) {
    }

    private BenchReport() {
    }

    public static List<Verdict> verdicts(Inputs in) {
        List<Verdict> verdicts = new ArrayList<>();
        if (in.switching() != null) {
            for (int sessions : sessionsOf(in.switching())) {
                Optional<PeakRow> relay = peak(in.switching(), RELAY, THROUGHPUT_TARGET_SIZE, sessions);
                Optional<PeakRow> udp = peak(in.switching(), UDP, THROUGHPUT_TARGET_SIZE, sessions);
                if (relay.isPresent() && udp.isPresent()) {
                    double ratio = relay.get().framesPerSecond() / udp.get().framesPerSecond();
                    verdicts.add(new Verdict(String.format(Locale.ROOT,
                            "P1 frames/s at %d B, %d sessions ≥ %.1f× plain UDP", THROUGHPUT_TARGET_SIZE, sessions,
                            THROUGHPUT_TARGET),
                            String.format(Locale.ROOT, "%,.0f frames/s = %.2f×", relay.get().framesPerSecond(), ratio),
                            String.format(Locale.ROOT, "plain UDP %,.0f frames/s", udp.get().framesPerSecond()),
                            ratio >= THROUGHPUT_TARGET));
                }
                Optional<LatencyRow> latency = latency(in.switching(), RELAY, THROUGHPUT_TARGET_SIZE, sessions,
                        LATENCY_TARGET_FRACTION);
                Optional<LatencyRow> udpLatency = latency(in.switching(), UDP, THROUGHPUT_TARGET_SIZE, sessions,
                        LATENCY_TARGET_FRACTION);
                if (latency.isPresent()) {
                    verdicts.add(new Verdict(String.format(Locale.ROOT,
                            "P1 p99 latency at 50%% of peak, %d B, %d sessions < 1 ms", THROUGHPUT_TARGET_SIZE,
                            sessions),
                            String.format(Locale.ROOT, "%s end to end (an upper bound of what the relay adds)",
                                    micros(latency.get().p99())),
                            udpLatency.map(u -> "plain UDP " + micros(u.p99())).orElse("-"),
                            latency.get().p99() < LATENCY_TARGET_NANOS));
                }
            }
        }
        if (in.nat() != null) {
            natVerdicts(in.nat(), verdicts);
        }
        if (in.field() != null) {
            FieldReport.verdicts(in.field(), verdicts);
        }
        if (in.cluster() != null) {
            ClusterReport.verdicts(in.cluster(), verdicts);
        }
        if (in.scale() != null) {
            for (ScaleBench.Level level : in.scale().levels()) {
                verdicts.add(new Verdict(String.format(Locale.ROOT, "P3 memory per idle session at %,d sessions"
                        + " ≤ 100 KiB", level.sessions()),
                        String.format(Locale.ROOT, "%.1f KiB", level.bytesPerSession() / 1024.0), "-",
                        level.bytesPerSession() <= IDLE_SESSION_TARGET_BYTES));
            }
        }
        if (in.micro() != null) {
            for (MicroBench.Row row : in.micro().rows()) {
                verdicts.add(new Verdict("Micro " + row.name() + ": 0 B/op",
                        String.format(Locale.ROOT, "%.3f B/op, %.1f ns/op", row.bytesPerOp(), row.nanosPerOp()), "-",
                        row.bytesPerOp() < 0.5));
            }
        }
        return verdicts;
    }

    /** Writes BENCHMARKS.md and the PNGs into {@code dir}. */
    public static Path write(Path dir, Inputs in) throws IOException {
        Path file = dir.resolve("BENCHMARKS.md");
        Files.writeString(file, render(dir, in));
        return file;
    }

    /**
     * Updates the BENCHMARKS.md in {@code dir} with the parts {@code in} ran ({@code parts}), keeping every other
     * part's figures as an earlier run wrote them; writes it fresh when there is none.
     */
    public static Path update(Path dir, Inputs in, java.util.Set<BenchCommand.Part> parts) throws IOException {
        Path file = dir.resolve("BENCHMARKS.md");
        if (!Files.exists(file)) {
            return write(dir, in);
        }
        String merged = ReportMerge.merge(Files.readString(file), render(dir, in), parts, in);
        Files.writeString(file, merged);
        return file;
    }

    /** The whole report of {@code in}; its PNGs are written into {@code dir}. */
    static String render(Path dir, Inputs in) throws IOException {
        Files.createDirectories(dir);
        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks\n\n");
        md.append("Every figure below comes from one run of `").append(in.command())
                .append("`, on loopback and in network namespaces the bench creates, ")
                .append("each beside its baseline measured in the same run. The machines are noisy: compare the ")
                .append("ratios, not the absolute numbers.\n\n");
        md.append("- Machine: ").append(in.machine()).append('\n');
        md.append("- Started: ").append(in.startedAt()).append(", took ").append(in.elapsedSeconds()).append(" s\n\n");

        for (String note : in.notes()) {
            md.append("**").append(note).append("**\n\n");
        }
        md.append("## Targets\n\n| target | measured | same-run baseline | met |\n|---|---|---|---|\n");
        for (Verdict v : verdicts(in)) {
            md.append("| ").append(v.target()).append(" | ").append(v.measured()).append(" | ").append(v.baseline())
                    .append(" | ").append(v.met() ? "**met**" : "**not met**").append(" |\n");
        }
        md.append('\n');
        if (in.switching() != null) {
            switching(dir, md, in.switching());
        }
        if (in.nat() != null) {
            nat(dir, md, in.nat());
        } else {
            md.append("## P2 NAT\n\nNot measured in this run").append(in.notes().contains(BenchCommand.NAT_NEEDS_ROOT)
                    ? ": " + BenchCommand.NAT_NEEDS_ROOT + "." : ".").append("\n\n");
        }
        if (in.field() != null) {
            FieldReport.section(md, in.field());
        } else if (in.notes().contains(BenchCommand.FIELD_NEEDS_ROOT)) {
            md.append("## Field: the relay across 1500-MTU links\n\nNot measured in this run: ")
                    .append(BenchCommand.FIELD_NEEDS_ROOT).append(".\n\n");
        }
        if (in.cluster() != null) {
            ClusterReport.section(md, in.cluster());
        }
        if (in.scale() != null) {
            scale(md, in.scale());
        }
        if (in.switching() != null) {
            cpuPerGigabit(md, in.switching());
        }
        if (in.workers() != null) {
            WorkersReport.section(md, in.workers());
        }
        if (in.micro() != null) {
            micro(md, in.micro());
        }
        if (in.profile() != null) {
            md.append(in.profile().markdown());
        }
        return md.toString();
    }

    private static void switching(Path dir, StringBuilder md, SwitchBench.Results results) throws IOException {
        md.append("## P1 switch: frames between WebTransport clients\n\n");
        md.append("Endpoints in pairs send numbered, timestamped Ethernet frames to their partner through each "
                + "forwarder; all three use the relay's learning switch, so the differences are the transports:\n\n");
        for (String description : results.fixtureDescriptions()) {
            md.append("- ").append(description).append('\n');
        }
        md.append("\nThe relay and the plain UDP forwarder each run in a process of their own (the relay started as "
                + "`relay` starts it, its per-address and per-session limits lifted since every endpoint comes from "
                + "127.0.0.1); the bare QUIC forwarder runs in the bench's JVM. The load generator runs every endpoint "
                + "on one event loop in the bench's process (one core for the load, one for the forwarder). *Peak* "
                + "keeps a window of frames in flight per flow (closed loop) and is the median of "
                + "several rounds that alternate between the forwarders; "
                + "*latency* sends at a fixed share of each forwarder's own peak (open loop) and measures from each "
                + "frame's intended send time (HdrHistogram), so it includes both endpoints' stacks. *loop cores* is "
                + "the CPU time of the forwarder's event-loop thread per wall second (from /proc/PID/task for a "
                + "forwarder in its own process, from the JVM for the QUIC forwarder): a forwarder well below 1.0 was "
                + "held back by the load generator, not by itself. *process cores* is its whole process's (/proc/PID/"
                + "stat: GC, JIT and every other thread too). *loadgen cores* is the load generator's thread.\n\n");
        md.append("### Peak throughput\n\n");
        md.append("| frame | sessions | relay frames/s | QUIC datagrams | plain UDP | relay ÷ UDP | relay ÷ QUIC "
                + "| relay Mbit/s | relay rounds min..max | relay loop cores | relay process cores "
                + "| loadgen cores (relay run) |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        List<String> categories = new ArrayList<>();
        List<double[]> values = new ArrayList<>();
        for (int sessions : sessionsOf(results)) {
            for (int size : sizesOf(results)) {
                Optional<PeakRow> relay = peak(results, RELAY, size, sessions);
                Optional<PeakRow> quic = peak(results, QUIC, size, sessions);
                Optional<PeakRow> udp = peak(results, UDP, size, sessions);
                double r = relay.map(PeakRow::framesPerSecond).orElse(Double.NaN);
                double q = quic.map(PeakRow::framesPerSecond).orElse(Double.NaN);
                double u = udp.map(PeakRow::framesPerSecond).orElse(Double.NaN);
                md.append(String.format(Locale.ROOT, "| %d B | %d | %,.0f | %,.0f | %,.0f | %.2f | %.2f | %,.0f "
                        + "| %,.0f..%,.0f | %.2f | %.2f | %.2f |%n", size, sessions, r, q, u, r / u, r / q,
                        relay.map(PeakRow::megabitsPerSecond).orElse(Double.NaN),
                        relay.map(PeakRow::minFramesPerSecond).orElse(Double.NaN),
                        relay.map(PeakRow::maxFramesPerSecond).orElse(Double.NaN),
                        relay.map(PeakRow::forwarderCores).orElse(Double.NaN),
                        relay.map(PeakRow::processCores).orElse(Double.NaN),
                        relay.map(PeakRow::loadCores).orElse(Double.NaN)));
                categories.add(size + " B, " + sessions + " sess.");
                values.add(new double[] {r, q, u});
            }
        }
        md.append("\nBaseline cores: ");
        List<String> cores = new ArrayList<>();
        for (PeakRow row : results.peaks()) {
            if (!row.fixture().equals(RELAY)) {
                cores.add(String.format(Locale.ROOT, "%s %d B/%d: loop %.2f%s (loadgen %.2f)", row.fixture(),
                        row.size(), row.sessions(), row.forwarderCores(), Double.isNaN(row.processCores()) ? ""
                                : String.format(Locale.ROOT, ", process %.2f", row.processCores()), row.loadCores()));
            }
        }
        md.append(String.join("; ", cores)).append(".\n\n");
        Charts.bars(dir.resolve("p1-peak-frames.png"), "P1 peak frames/s (higher is better)", "frames/s",
                categories, List.of(series(RELAY, values, 0), series(QUIC, values, 1), series(UDP, values, 2)),
                Double.NaN, "");
        md.append("![P1 peak frames per second](p1-peak-frames.png)\n\n");

        if (!results.latencies().isEmpty()) {
            md.append("### Latency at a share of each forwarder's own peak\n\n");
            md.append("| frame | sessions | load | relay p50 | relay p99 | relay p99.9 | QUIC p99 | UDP p99 "
                    + "| relay frames/s sent | relay loss |\n|---|---|---|---|---|---|---|---|---|---|\n");
            for (LatencyRow row : results.latencies()) {
                if (!row.fixture().equals(RELAY)) {
                    continue;
                }
                Optional<LatencyRow> quic = latency(results, QUIC, row.size(), row.sessions(), row.fraction());
                Optional<LatencyRow> udp = latency(results, UDP, row.size(), row.sessions(), row.fraction());
                md.append(String.format(Locale.ROOT, "| %d B | %d | %.0f%% | %s | %s | %s | %s | %s | %,.0f | %.3f%% |%n",
                        row.size(), row.sessions(), row.fraction() * 100, micros(row.p50()), micros(row.p99()),
                        micros(row.p999()), quic.map(l -> micros(l.p99())).orElse("-"),
                        udp.map(l -> micros(l.p99())).orElse("-"), row.sentPerSecond(),
                        row.accounting().lossRatio() * 100));
            }
            md.append('\n');
            for (int sessions : sessionsOf(results)) {
                int size = THROUGHPUT_TARGET_SIZE;
                List<Double> fractions = new ArrayList<>();
                for (LatencyRow row : results.latencies()) {
                    if (row.fixture().equals(RELAY) && row.size() == size && row.sessions() == sessions) {
                        fractions.add(row.fraction());
                    }
                }
                if (fractions.isEmpty()) {
                    continue;
                }
                double[] xs = fractions.stream().mapToDouble(f -> f * 100).toArray();
                List<Charts.Series> lines = new ArrayList<>();
                for (String fixture : List.of(RELAY, QUIC, UDP)) {
                    double[] ys = fractions.stream().mapToDouble(f -> latency(results, fixture, size, sessions, f)
                            .map(l -> l.p99() / 1e3).orElse(Double.NaN)).toArray();
                    lines.add(new Charts.Series(fixture + " p99", ys));
                }
                String name = "p1-latency-p99-" + size + "B-" + sessions + "s.png";
                Charts.lines(dir.resolve(name), "P1 p99 latency, " + size + " B frames, " + sessions + " sessions",
                        "% of the forwarder's own peak rate", "p99 latency (µs)", xs, lines,
                        LATENCY_TARGET_NANOS / 1e3, "target: 1 ms");
                md.append("![P1 p99 latency ").append(sessions).append(" sessions](").append(name).append(")\n\n");
            }
        }
        md.append("### Accounting: the load generator's counts against the switch's counters\n\n");
        md.append("Per run: frames sent by the endpoints, counted in and out by the forwarder's switch, received by "
                + "the partners; losses before the switch (client and server stacks, socket buffers) and after it. "
                + "A run whose counts break a rule (more in than sent, more received than out, misdelivered, "
                + "flooded) is marked.\n\n");
        md.append("| forwarder | frame | sessions | run | sent | switch in | switch out | received | lost before "
                + "| lost after | counted drops | check |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (PeakRow row : results.peaks()) {
            accountingRow(md, row.fixture(), row.size(), row.sessions(), "peak", row.accounting());
        }
        for (LatencyRow row : results.latencies()) {
            accountingRow(md, row.fixture(), row.size(), row.sessions(),
                    String.format(Locale.ROOT, "%.0f%%", row.fraction() * 100), row.accounting());
        }
        md.append('\n');
    }

    /** P2: the relay's median against slirp4netns's for the curl download and upload, pasta's ratio beside it. */
    static void natVerdicts(NatBench.Results nat, List<Verdict> verdicts) {
        for (NatBench.Test test : List.of(NatBench.Test.DOWNLOAD, NatBench.Test.UPLOAD)) {
            Optional<NatBench.PeerResult> relay = nat.peer(NatBench.RELAY);
            Optional<NatBench.PeerResult> slirp = nat.peer(NatBench.SLIRP);
            if (relay.isEmpty() || slirp.isEmpty()) {
                continue;
            }
            double ratio = NatBench.ratio(nat, test, NatBench.SLIRP);
            double pasta = NatBench.ratio(nat, test, NatBench.PASTA);
            double pasta1500 = NatBench.ratio(nat, test, NatBench.PASTA_1500);
            verdicts.add(new Verdict(String.format(Locale.ROOT, "P2 NAT TCP %s (%d MB) ≥ %.0f× slirp4netns",
                    test.label, (test == NatBench.Test.DOWNLOAD ? nat.plan().downloadBytes()
                            : nat.plan().uploadBytes()) >> 20, NAT_TARGET),
                    String.format(Locale.ROOT, "%,.0f Mbit/s = %s slirp4netns; %s pasta, %s pasta -m 1500",
                            relay.get().stat(test).median(), times(ratio), times(pasta), times(pasta1500)),
                    String.format(Locale.ROOT, "slirp4netns %,.0f Mbit/s", slirp.get().stat(test).median()),
                    ratio >= NAT_TARGET));
        }
    }


    /** A number in {@code format}, or "-" when there is none (every round failed). */
    static String orDash(String format, double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, format, value);
    }

    /** A ratio as "0.77×", or "-" when one side has no successful round to compare. */
    static String times(double ratio) {
        return Double.isNaN(ratio) || Double.isInfinite(ratio) ? "-" : String.format(Locale.ROOT, "%.2f×", ratio);
    }

    private static void nat(Path dir, StringBuilder md, NatBench.Results nat) throws IOException {
        md.append("## P2 NAT: bulk TCP and UDP from a VM to the internet\n\n");
        md.append(nat.method()).append("\n\n");
        for (NatBench.PeerResult peer : nat.peers()) {
            md.append("- **").append(peer.peer()).append("**: ").append(peer.description()).append("; the VM's MTU ")
                    .append(peer.vmMtu()).append('\n');
        }
        for (String note : nat.notes()) {
            md.append("- ").append(note).append('\n');
        }
        md.append("\nMbit/s, median (min..max) of ").append(nat.plan().rounds()).append(" round(s); CPU of the NAT "
                + "(100 = one core), median.\n\n");
        md.append("| peer | VM MTU |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (NatBench.Test test : NatBench.Test.values()) {
            md.append(' ').append(test.label).append(" | CPU |");
            rule.append("---|---|");
        }
        md.append(" UDP loss |\n").append(rule).append("---|\n");
        for (NatBench.PeerResult peer : nat.peers()) {
            md.append("| ").append(peer.peer()).append(" | ").append(peer.vmMtu()).append(" |");
            for (NatBench.Test test : NatBench.Test.values()) {
                NatBench.Stat stat = peer.stat(test);
                md.append(' ').append(rate(stat)).append(" | ").append(orDash("%.0f", stat.cpuMedian())).append(" |");
            }
            md.append(' ').append(orDash("%.2f%%", peer.stat(NatBench.Test.UDP_UP).lossMedian())).append(" |\n");
        }
        md.append("\n| relay ÷ | ");
        StringBuilder ratioRule = new StringBuilder("|---|");
        for (NatBench.Test test : NatBench.Test.values()) {
            md.append(test.label).append(" | ");
            ratioRule.append("---|");
        }
        md.append('\n').append(ratioRule).append('\n');
        for (String baseline : List.of(NatBench.SLIRP, NatBench.PASTA, NatBench.PASTA_1500)) {
            if (nat.peer(baseline).isEmpty()) {
                continue;
            }
            md.append("| ").append(baseline).append(" |");
            for (NatBench.Test test : NatBench.Test.values()) {
                md.append(' ').append(times(NatBench.ratio(nat, test, baseline))).append(" |");
            }
            md.append('\n');
        }
        md.append('\n');
        List<String> failures = new ArrayList<>();
        for (NatBench.PeerResult peer : nat.peers()) {
            for (NatBench.Test test : NatBench.Test.values()) {
                for (String error : peer.stat(test).errors()) {
                    failures.add(peer.peer() + ", " + test.label + ": " + error);
                }
            }
        }
        if (!failures.isEmpty()) {
            md.append("Failed transfers (left out of the medians):\n\n");
            for (String failure : failures) {
                md.append("- ").append(failure.replace('\n', ' ')).append('\n');
            }
            md.append('\n');
        }
        List<String> categories = new ArrayList<>();
        List<Charts.Series> series = new ArrayList<>();
        for (NatBench.Test test : NatBench.Test.values()) {
            categories.add(test.label);
        }
        for (NatBench.PeerResult peer : nat.peers()) {
            series.add(new Charts.Series(peer.peer(), java.util.Arrays.stream(NatBench.Test.values())
                    .mapToDouble(t -> peer.stat(t).median()).toArray()));
        }
        double slirpDown = nat.peer(NatBench.SLIRP).map(p -> p.stat(NatBench.Test.DOWNLOAD).median())
                .orElse(Double.NaN);
        Charts.bars(dir.resolve("p2-nat-throughput.png"), "P2 NAT throughput, median Mbit/s (higher is better)",
                "Mbit/s", categories, series, slirpDown, "slirp4netns curl download");
        md.append("![P2 NAT throughput](p2-nat-throughput.png)\n\n");
        if (!nat.relayCounters().isEmpty()) {
            md.append("The relay's non-zero drop, TCP recovery and link recovery counters after P2 (its `/metrics`, all rounds):\n\n```\n");
            for (String line : nat.relayCounters()) {
                md.append(line).append('\n');
            }
            md.append("```\n\n");
        }
        if (!nat.recordings().isEmpty()) {
            md.append("Flight recordings of the relay and its connector over the whole P2 run (`jfr view hot-methods "
                    + "FILE`, or JDK Mission Control): ");
            md.append(String.join(", ", nat.recordings().stream().map(p -> "`" + p + "`").toList())).append(".\n\n");
        }
    }

    /** As {@link #rate} with a decimal (rates of a few Mbit/s), one sample without its range. */
    static String fineRate(NatBench.Stat stat) {
        if (stat.succeeded().isEmpty()) {
            return stat.samples().isEmpty() ? "-" : "failed";
        }
        String text = stat.succeeded().size() == 1 ? String.format(Locale.ROOT, "%,.1f", stat.median())
                : String.format(Locale.ROOT, "%,.1f (%,.1f..%,.1f)", stat.median(), stat.min(), stat.max());
        int failed = stat.samples().size() - stat.succeeded().size();
        return failed == 0 ? text : text + " " + failed + " failed";
    }

    static String rate(NatBench.Stat stat) {
        if (stat.succeeded().isEmpty()) {
            return stat.samples().isEmpty() ? "-" : "failed";
        }
        String text = String.format(Locale.ROOT, "%,.0f (%,.0f..%,.0f)", stat.median(), stat.min(), stat.max());
        int failed = stat.samples().size() - stat.succeeded().size();
        return failed == 0 ? text : text + " " + failed + " failed";
    }

    private static void accountingRow(StringBuilder md, String fixture, int size, int sessions, String run,
            Accounting a) {
        List<String> broken = a.violations();
        md.append(String.format(Locale.ROOT, "| %s | %d B | %d | %s | %,d | %,d | %,d | %,d | %,d | %,d | %,d | %s |%n",
                fixture, size, sessions, run, a.load().sent(), a.framesIn(), a.framesOut(), a.load().received(),
                a.lostBeforeSwitch(), a.lostAfterSwitch(), a.drops(),
                broken.isEmpty() ? "ok" : "**" + String.join("; ", broken) + "**"));
    }

    private static void scale(StringBuilder md, ScaleBench.Results scale) {
        md.append("## P3 scale: memory per idle session\n\n");
        md.append(scale.method()).append("\n\n");
        if (!scale.note().isEmpty()) {
            md.append("**").append(scale.note()).append("**\n\n");
        }
        md.append("| sessions | relay RSS | RSS growth over the empty relay | per session | heap used after GC "
                + "| opened in |\n|---|---|---|---|---|---|\n");
        md.append(String.format(Locale.ROOT, "| 0 | %.1f MiB | - | - | %.1f MiB | - |%n",
                scale.baselineRssBytes() / 1048576.0, scale.baselineHeapBytes() / 1048576.0));
        for (ScaleBench.Level level : scale.levels()) {
            md.append(String.format(Locale.ROOT, "| %,d | %.1f MiB | %.1f MiB | %.1f KiB | %.1f MiB | %.1f s |%n",
                    level.sessions(), level.rssBytes() / 1048576.0,
                    (level.rssBytes() - scale.baselineRssBytes()) / 1048576.0, level.bytesPerSession() / 1024.0,
                    level.heapUsedBytes() / 1048576.0, level.openSeconds()));
        }
        md.append('\n');
    }

    private static void cpuPerGigabit(StringBuilder md, SwitchBench.Results results) {
        md.append("## P3 scale: CPU per Gbit/s\n\nCore-seconds of the forwarder's event-loop thread per gigabit "
                + "forwarded, at peak (from the P1 peak runs; lower is better).\n\n");
        md.append("| frame | sessions | relay | QUIC datagrams | plain UDP |\n|---|---|---|---|---|\n");
        for (int sessions : sessionsOf(results)) {
            for (int size : sizesOf(results)) {
                md.append(String.format(Locale.ROOT, "| %d B | %d | %.2f | %.2f | %.2f |%n", size, sessions,
                        peak(results, RELAY, size, sessions).map(PeakRow::coreSecondsPerGigabit).orElse(Double.NaN),
                        peak(results, QUIC, size, sessions).map(PeakRow::coreSecondsPerGigabit).orElse(Double.NaN),
                        peak(results, UDP, size, sessions).map(PeakRow::coreSecondsPerGigabit).orElse(Double.NaN)));
            }
        }
        md.append("\nThe relay runs a worker per core here (`--workers` = the cores); its loop cores are all "
                + "its workers' together. Throughput against `--workers` is the workers part's.\n\n");
    }

    private static void micro(StringBuilder md, MicroBench.Results micro) {
        md.append("## Micro-benchmarks (JMH, `-prof gc`)\n\n").append(micro.method()).append("\n\n");
        md.append("| benchmark | ns/op | B/op (gc.alloc.rate.norm) | 0 B/op |\n|---|---|---|---|\n");
        for (MicroBench.Row row : micro.rows()) {
            md.append(String.format(Locale.ROOT, "| %s | %.2f | %.3f | %s |%n", row.name(), row.nanosPerOp(),
                    row.bytesPerOp(), row.bytesPerOp() < 0.5 ? "met" : "**not met**"));
        }
        md.append('\n');
    }

    private static Charts.Series series(String name, List<double[]> values, int column) {
        return new Charts.Series(name, values.stream().mapToDouble(v -> v[column]).toArray());
    }

    static String micros(long nanos) {
        return String.format(Locale.ROOT, "%.0f µs", nanos / 1e3);
    }

    private static List<Integer> sessionsOf(SwitchBench.Results results) {
        return results.peaks().stream().map(PeakRow::sessions).distinct().sorted().toList();
    }

    private static List<Integer> sizesOf(SwitchBench.Results results) {
        return results.peaks().stream().map(PeakRow::size).distinct().sorted().toList();
    }

    static Optional<PeakRow> peak(SwitchBench.Results results, String fixture, int size, int sessions) {
        return results.peaks().stream()
                .filter(r -> r.fixture().equals(fixture) && r.size() == size && r.sessions() == sessions).findFirst();
    }

    static Optional<LatencyRow> latency(SwitchBench.Results results, String fixture, int size, int sessions,
            double fraction) {
        return results.latencies().stream().filter(r -> r.fixture().equals(fixture) && r.size() == size
                && r.sessions() == sessions && Math.abs(r.fraction() - fraction) < 1e-9).findFirst();
    }
}
