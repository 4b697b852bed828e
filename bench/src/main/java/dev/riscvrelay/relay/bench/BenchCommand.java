package dev.riscvrelay.relay.bench;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code relay bench}: measures the relay against its baselines in one bounded run on loopback and writes
 * BENCHMARKS.md with PNG charts. Exits 1 when a part asked for could not be measured (it failed, or needs root), or
 * when a run's counts disagree with the forwarder's counters (the numbers are then not to be trusted); unmet targets
 * are reported, not failed.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = {"Benchmarks the relay against a plain UDP forwarder and a bare QUIC datagram forwarder "
                + "on loopback (P1, P3), its NAT against slirp4netns and pasta in network namespaces (P2, needs "
                + "root), the relay across 1500-MTU veths and impaired links against loopback (field, needs root), "
                + "two relays joined through NATS against one relay (cluster, needs root and nats-server), "
                + "the relay's peak against --workers (workers), "
                + "and writes BENCHMARKS.md with PNG charts."})
public final class BenchCommand implements Callable<Integer> {

    /** Parts of the benchmark that can be run alone. */
    public enum Part { switching, nat, field, cluster, workers, scale, micro }

    /** What the report says instead of P2 when the bench cannot create network namespaces. */
    public static final String NAT_NEEDS_ROOT = "P2 needs root (network namespaces)";
    /** What the report says instead of the field part when the bench cannot create network namespaces. */
    public static final String FIELD_NEEDS_ROOT = "The field part needs root (network namespaces)";
    /** What the report says instead of the cluster part when the bench cannot create network namespaces. */
    public static final String CLUSTER_NEEDS_ROOT = "The cluster part needs root (network namespaces)";

    @Option(names = "--quick", description = "Smoke size: every part runs, small; a few minutes with the namespace parts.")
    boolean quick;

    @Option(names = "--out", paramLabel = "DIR", description = "Where BENCHMARKS.md and the PNGs go (default: .).")
    Path out = Path.of(".");

    @Option(names = "--parts", split = ",", paramLabel = "PART",
            description = "Which parts to run: ${COMPLETION-CANDIDATES} (default: all).")
    Set<Part> parts = EnumSet.allOf(Part.class);

    /** Congestion controls the field part's hosts may run (each in every Linux kernel this runs on). */
    public enum HostTcp { cubic, bbr, reno }

    @Option(names = "--host-tcp", paramLabel = "ALG", description = "The field part's hosts' TCP congestion control,"
            + " set on their routes whatever this machine's default: ${COMPLETION-CANDIDATES} (default: cubic,"
            + " Linux's default).")
    HostTcp hostTcp = HostTcp.valueOf(FieldBench.DEFAULT_HOST_TCP);

    @Option(names = "--no-profile", description = "Skip the JFR profile of the relay's largest run.")
    boolean noProfile;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter log = spec.commandLine().getOut();
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        String loadAtStart = loadAverage();
        if (!Epoll.isAvailable()) {
            spec.commandLine().getErr().println("relay bench: needs Linux epoll: " + Epoll.unavailabilityCause());
            return 1;
        }
        String command = "relay bench" + (quick ? " --quick" : "")
                + (parts.equals(EnumSet.allOf(Part.class)) ? "" : " --parts " + joinParts())
                + (hostTcp.name().equals(FieldBench.DEFAULT_HOST_TCP) ? "" : " --host-tcp " + hostTcp);
        log.println(command + ": writing " + out.toAbsolutePath().normalize().resolve("BENCHMARKS.md"));
        IoEventLoopGroup loadGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("loadgen"),
                EpollIoHandler.newFactory());
        IoEventLoop loadLoop = (IoEventLoop) loadGroup.next();
        SwitchBench.Results switching = null;
        ScaleBench.Results scale = null;
        MicroBench.Results micro = null;
        NatBench.Results nat = null;
        FieldBench.Results field = null;
        ClusterBench.Results cluster = null;
        WorkersBench.Results workers = null;
        Profile.Summary[] profile = new Profile.Summary[1];
        List<String> notes = new ArrayList<>();
        try {
            if (parts.contains(Part.switching)) {
                log.println("P1 switch: peak and latency of the relay and its baselines");
                log.flush();
                SwitchBench.Plan plan = quick ? SwitchBench.Plan.quick() : SwitchBench.Plan.full();
                int most = plan.sessions().stream().mapToInt(Integer::intValue).max().orElse(2);
                List<SwitchBench.FixtureFactory> fixtures = List.of(
                        () -> new RelayProcessFixture(most + 8), QuicForwarderFixture::new, UdpForwarderFixture::new);
                SwitchBench.RunHook hook = noProfile ? null : (fixture, run) -> fixture instanceof RelayProcessFixture relay
                        ? Profile.recordProcess(relay.pid(), RelayProcessFixture.LOOP_THREAD_JAVA,
                                Files.createTempFile("relay-p1-", ".jfr"), run::get, s -> profile[0] = s)
                        : run.get();
                switching = new SwitchBench(plan, loadLoop, log).run(fixtures, hook);
            }
            if (parts.contains(Part.nat)) {
                nat = namespacePart("P2 NAT: bulk TCP and UDP from a namespace VM through the relay, slirp4netns and"
                        + " pasta", NAT_NEEDS_ROOT, "P2 NAT", log, notes, () -> {
                            NatBench.Plan plan = quick ? NatBench.Plan.quick() : NatBench.Plan.full();
                            if (!noProfile && !quick) {
                                plan = plan.withJfr(Files.createTempDirectory("relay-p2-jfr-"));
                            }
                            return new NatBench(plan, log).run();
                        });
            }
            if (parts.contains(Part.field)) {
                field = namespacePart("Field: the relay across 1500-MTU veths and impaired links, against loopback",
                        FIELD_NEEDS_ROOT, "The field part", log, notes,
                        () -> new FieldBench(quick ? FieldBench.Plan.quick() : FieldBench.Plan.full(), hostTcp.name(),
                                log).run());
            }
            if (parts.contains(Part.cluster)) {
                cluster = namespacePart("Cluster: host to host across two relays on NATS, against one relay",
                        CLUSTER_NEEDS_ROOT, "The cluster part", log, notes,
                        () -> new ClusterBench(quick ? ClusterBench.Plan.quick() : ClusterBench.Plan.full(), log).run());
            }
            if (parts.contains(Part.workers)) {
                log.println("Workers: P1 peak of the relay with --workers 1, 2, 4 (a network per pair of sessions)");
                log.flush();
                try {
                    workers = new WorkersBench(quick ? WorkersBench.Plan.quick() : WorkersBench.Plan.full(), loadLoop,
                            log).run();
                } catch (Exception e) {
                    notes.add("The workers part failed: " + e);
                    log.println("  the workers part failed: " + e);
                }
            }
            if (parts.contains(Part.scale)) {
                log.println("P3 scale: memory per idle session (relay in its own process)");
                log.flush();
                try {
                    scale = new ScaleBench(quick ? List.of(100, 300) : List.of(1000, 5000, 10000),
                            quick ? Duration.ofSeconds(60) : Duration.ofMinutes(3), loadLoop, log).run();
                } catch (Exception e) {
                    notes.add("P3 scale failed: " + e);
                    log.println("  P3 scale failed: " + e);
                }
            }
        } finally {
            loadGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        if (parts.contains(Part.micro)) {
            log.println("Micro: JMH hot-path benchmarks with the GC profiler");
            log.flush();
            try {
                micro = MicroBench.run(quick);
            } catch (Exception e) {
                notes.add("Micro-benchmarks failed: " + e);
                log.println("  micro-benchmarks failed: " + e);
            }
            for (MicroBench.Row row : micro == null ? List.<MicroBench.Row>of() : micro.rows()) {
                log.printf("  %-22s %8.2f ns/op %8.3f B/op%n", row.name(), row.nanosPerOp(), row.bytesPerOp());
            }
        }
        long elapsed = (System.nanoTime() - t0) / 1_000_000_000L;
        BenchReport.Inputs inputs = new BenchReport.Inputs(command, machine() + "; load average (1 min) "
                + loadAtStart + " at the start, " + loadAverage() + " at the end",
                started.truncatedTo(ChronoUnit.SECONDS).toString(), elapsed, switching, nat, field, cluster, workers,
                scale, micro,
                profile[0],
                notes);
        EnumSet<Part> unmeasured = unmeasured(parts, inputs);
        EnumSet<Part> measured = EnumSet.copyOf(parts);
        measured.removeAll(unmeasured);
        Path file = report(out, inputs, measured, unmeasured);
        log.println();
        for (BenchReport.Verdict verdict : BenchReport.verdicts(inputs)) {
            log.printf("  %-9s %s: %s (%s)%n", verdict.met() ? "met" : "NOT MET", verdict.target(),
                    verdict.measured(), verdict.baseline());
        }
        List<String> untrusted = untrusted(switching);
        untrusted.addAll(untrusted(workers));
        for (String problem : untrusted) {
            spec.commandLine().getErr().println("relay bench: counts disagree: " + problem);
        }
        log.println(file == null ? "Nothing measured: " + out.resolve("BENCHMARKS.md") + " left as it was"
                : "Wrote " + file + " in " + elapsed + " s");
        log.flush();
        for (Part part : unmeasured) {
            spec.commandLine().getErr().println("relay bench: the " + part + " part was not measured (see above)");
        }
        return untrusted.isEmpty() && unmeasured.isEmpty() ? 0 : 1;
    }

    /**
     * Writes the report, or merges this run into an existing one. A part that was asked for and not measured (it
     * failed, or needs root) keeps an existing report's earlier figures: its failure is this run's exit status and
     * log, not a hole in the report. Returns null when nothing was measured and a report exists: it stays as it was.
     */
    static Path report(Path out, BenchReport.Inputs inputs, EnumSet<Part> measured, EnumSet<Part> unmeasured)
            throws IOException {
        boolean exists = Files.exists(out.resolve("BENCHMARKS.md"));
        if (!exists || (unmeasured.isEmpty() && measured.equals(EnumSet.allOf(Part.class)))) {
            return BenchReport.write(out, inputs);
        }
        if (measured.isEmpty()) {
            return null;
        }
        return BenchReport.update(out, inputs, measured);
    }

    /** The parts of {@code asked} that have no results in {@code in}. */
    static EnumSet<Part> unmeasured(Set<Part> asked, BenchReport.Inputs in) {
        EnumSet<Part> missing = EnumSet.noneOf(Part.class);
        for (Part part : asked) {
            Object results = switch (part) {
                case switching -> in.switching();
                case nat -> in.nat();
                case field -> in.field();
                case cluster -> in.cluster();
                case workers -> in.workers();
                case scale -> in.scale();
                case micro -> in.micro();
            };
            if (results == null) {
                missing.add(part);
            }
        }
        return missing;
    }

    /**
     * Runs a part that builds network namespaces: says what it measures, and when it cannot run (not root) or
     * fails, notes why for the report instead of its results (null then).
     */
    private static <T> T namespacePart(String title, String needsRoot, String name, PrintWriter log,
            List<String> notes, java.util.concurrent.Callable<T> run) {
        log.println(title);
        log.flush();
        if (!Namespaces.isRoot()) {
            notes.add(needsRoot);
            log.println("  " + needsRoot);
            return null;
        }
        try {
            return run.call();
        } catch (Exception e) {
            notes.add(name + " failed: " + e.getMessage());
            log.println("  " + name + " failed: " + e);
            return null;
        }
    }

    private String joinParts() {
        List<String> names = new ArrayList<>();
        for (Part part : parts) {
            names.add(part.name());
        }
        return String.join(",", names);
    }

    /** Every accounting rule a run broke, named by the run. */
    static List<String> untrusted(SwitchBench.Results results) {
        List<String> problems = new ArrayList<>();
        if (results == null) {
            return problems;
        }
        for (SwitchBench.PeakRow row : results.peaks()) {
            for (String v : row.accounting().violations()) {
                problems.add(row.fixture() + " " + row.size() + " B " + row.sessions() + " sessions peak: " + v);
            }
        }
        for (SwitchBench.LatencyRow row : results.latencies()) {
            for (String v : row.accounting().violations()) {
                problems.add(row.fixture() + " " + row.size() + " B " + row.sessions() + " sessions "
                        + Math.round(row.fraction() * 100) + "%: " + v);
            }
        }
        return problems;
    }

    /** Every accounting rule a run of the workers part broke, named by the relay. */
    static List<String> untrusted(WorkersBench.Results results) {
        List<String> problems = new ArrayList<>();
        if (results == null) {
            return problems;
        }
        for (WorkersBench.Run run : results.runs()) {
            for (String v : run.peak().accounting().violations()) {
                problems.add(run.peak().fixture() + " " + run.peak().size() + " B " + run.peak().sessions()
                        + " sessions peak: " + v);
            }
        }
        return problems;
    }

    /** The 1-minute load average: other work competing for the cores during the run. */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "unknown";
        }
    }

    static String machine() {
        String cpu = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException ignored) {
            // not Linux: keep "unknown CPU"
        }
        return Runtime.getRuntime().availableProcessors() + " × " + cpu + ", Linux " + System.getProperty("os.version")
                + ", Java " + Runtime.version() + ", Netty epoll";
    }
}
