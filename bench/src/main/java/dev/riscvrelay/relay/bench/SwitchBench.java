package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.metrics.Counter;
import io.netty.channel.IoEventLoop;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * P1: peak frames/s of the relay and both baselines for each frame size and session count, then latency at
 * fractions of each forwarder's own peak. Each forwarder gets fresh endpoints per session count; every run's
 * counts are checked against the forwarder's switch counters.
 */
public final class SwitchBench {

    /** Makes a forwarder; called once per session count. */
    @FunctionalInterface
    public interface FixtureFactory {
        Fixture create() throws Exception;
    }

    /**
     * @param sizes Ethernet frame sizes in bytes
     * @param sessions session counts (even: endpoints come in pairs)
     * @param latencyFractions fractions of the peak rate at which latency is measured
     * @param latencySizes sizes that also get latency runs
     * @param peakRounds peak runs per forwarder and size, alternating between forwarders; the median counts
     * @param peakWarmUp, peakMeasure, latencyWarmUp, latencyMeasure durations of each run's parts
     */
    public record Plan(List<Integer> sizes, List<Integer> sessions, List<Double> latencyFractions,
            List<Integer> latencySizes, int peakRounds, Duration peakWarmUp, Duration peakMeasure, Duration latencyWarmUp,
            Duration latencyMeasure) {

        public static Plan quick() {
            return new Plan(List.of(64, 1200), List.of(2), List.of(0.1, 0.5, 0.9), List.of(1200), 2,
                    Duration.ofMillis(300), Duration.ofMillis(1000), Duration.ofMillis(200), Duration.ofMillis(700));
        }

        public static Plan full() {
            return new Plan(List.of(64, 512, 1200), List.of(2, 16), List.of(0.1, 0.5, 0.9), List.of(64, 512, 1200), 3,
                    Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofMillis(500), Duration.ofSeconds(2));
        }
    }

    /**
     * Peak of one forwarder at one size and session count. {@code forwarderCores} is the CPU time of its event-loop
     * thread(s) per wall second, {@code processCores} that of its whole process (GC and JIT included; NaN when it
     * runs in the bench's JVM), {@code loadCores} that of the load generator's thread; {@code loopThreadCores}
     * splits {@code forwarderCores} by event-loop thread name.
     */
    public record PeakRow(String fixture, int size, int sessions, double framesPerSecond, double minFramesPerSecond,
            double maxFramesPerSecond, double forwarderCores, double processCores, double loadCores,
            Accounting accounting, Map<String, Double> loopThreadCores) {
        public PeakRow {
            loopThreadCores = Map.copyOf(loopThreadCores);
        }

        public double megabitsPerSecond() {
            return framesPerSecond * size * 8 / 1e6;
        }

        /** Core-seconds of the forwarder per gigabit forwarded. */
        public double coreSecondsPerGigabit() {
            double gbps = megabitsPerSecond() / 1000;
            return gbps == 0 ? Double.NaN : forwarderCores / gbps;
        }
    }

    /** Latency of one forwarder at a fraction of its own peak. Latencies in nanoseconds. */
    public record LatencyRow(String fixture, int size, int sessions, double fraction, double offeredPerSecond,
            double sentPerSecond, long p50, long p99, long p999, long max, long samples, Accounting accounting) {
    }

    public record Results(List<PeakRow> peaks, List<LatencyRow> latencies, List<String> fixtureDescriptions) {
    }

    private final Plan plan;
    private final IoEventLoop loadLoop;
    private final Thread loadThread;
    private final PrintWriter log;
    private final ThreadMXBean cpu = ManagementFactory.getThreadMXBean();

    public SwitchBench(Plan plan, IoEventLoop loadLoop, PrintWriter log) {
        this.plan = plan;
        this.loadLoop = loadLoop;
        this.loadThread = loadLoop.submit(Thread::currentThread).syncUninterruptibly().getNow();
        this.log = log;
    }

    /**
     * Runs the plan. For each session count every forwarder is up at once, and their runs alternate (relay, QUIC,
     * UDP, relay, ...) so a burst of noise from other work on the machine hits all of them alike; each peak is the
     * median of its rounds. {@code profiled} wraps the relay's last round at the largest size and session count.
     */
    public Results run(List<FixtureFactory> factories, RunHook profiled) throws Exception {
        return run(factories, profiled, null);
    }

    /**
     * As {@link #run(List, RunHook)}; {@code ready} (if not null) sees each forwarder once its endpoints are open
     * and every MAC is learned, before the first run, e.g. to ask the relay where the sessions landed.
     */
    public Results run(List<FixtureFactory> factories, RunHook profiled, ReadyHook ready) throws Exception {
        List<PeakRow> peaks = new ArrayList<>();
        List<LatencyRow> latencies = new ArrayList<>();
        List<String> descriptions = new ArrayList<>();
        for (int sessions : plan.sessions()) {
            List<Fixture> fixtures = new ArrayList<>();
            List<PairedLoad> loads = new ArrayList<>();
            List<List<Endpoint>> endpointSets = new ArrayList<>();
            try {
                for (FixtureFactory factory : factories) {
                    Fixture fixture = factory.create();
                    fixtures.add(fixture);
                    String description = fixture.name() + ": " + fixture.description();
                    if (!descriptions.contains(description)) {
                        descriptions.add(description);
                    }
                    PairedLoad load = new PairedLoad(loadLoop);
                    List<Endpoint> endpoints = fixture.open(sessions, loadLoop, load);
                    endpointSets.add(endpoints);
                    load.use(endpoints);
                    learnEveryMac(fixture, load, sessions);
                    loads.add(load);
                    if (ready != null) {
                        ready.ready(fixture, sessions);
                    }
                }
                for (int size : plan.sizes()) {
                    List<List<PeakRow>> rounds = new ArrayList<>();
                    for (int i = 0; i < fixtures.size(); i++) {
                        rounds.add(new ArrayList<>());
                    }
                    for (int round = 0; round < plan.peakRounds(); round++) {
                        for (int i = 0; i < fixtures.size(); i++) {
                            Fixture fixture = fixtures.get(i);
                            PairedLoad load = loads.get(i);
                            boolean profileThis = profiled != null && fixture.name().equals(BenchReport.RELAY)
                                    && round == plan.peakRounds() - 1 && size == plan.sizes().getLast()
                                    && sessions == plan.sessions().getLast();
                            rounds.get(i).add(profileThis
                                    ? profiled.around(fixture, () -> peak(fixture, load, size, sessions))
                                    : peak(fixture, load, size, sessions));
                        }
                    }
                    List<PeakRow> medians = new ArrayList<>();
                    for (List<PeakRow> fixtureRounds : rounds) {
                        PeakRow peak = median(fixtureRounds);
                        medians.add(peak);
                        peaks.add(peak);
                        log.printf("  %-15s %5d B %3d sessions: peak %,10.0f frames/s %,8.0f Mbit/s (rounds %,.0f..%,.0f;"
                                + " forwarder loop %.2f cores, process %s, loadgen %.2f)%n", peak.fixture(), size,
                                sessions, peak.framesPerSecond(), peak.megabitsPerSecond(), peak.minFramesPerSecond(),
                                peak.maxFramesPerSecond(), peak.forwarderCores(), Double.isNaN(peak.processCores())
                                        ? "shares this JVM" : String.format(java.util.Locale.ROOT, "%.2f",
                                                peak.processCores()), peak.loadCores());
                    }
                    log.flush();
                    if (!plan.latencySizes().contains(size)) {
                        continue;
                    }
                    for (double fraction : plan.latencyFractions()) {
                        for (int i = 0; i < fixtures.size(); i++) {
                            LatencyRow row = latency(fixtures.get(i), loads.get(i), size, sessions, fraction,
                                    medians.get(i).framesPerSecond());
                            latencies.add(row);
                            log.printf("  %-15s %5d B %3d sessions: %3.0f%% of peak, p50 %7.1f µs p99 %7.1f"
                                    + " µs p99.9 %7.1f µs, loss %.4f%%%n", row.fixture(), size, sessions,
                                    fraction * 100, row.p50() / 1e3, row.p99() / 1e3, row.p999() / 1e3,
                                    row.accounting().lossRatio() * 100);
                        }
                    }
                    log.flush();
                }
            } finally {
                for (List<Endpoint> endpoints : endpointSets) {
                    for (Endpoint endpoint : endpoints) {
                        endpoint.close();
                    }
                }
                for (Fixture fixture : fixtures) {
                    fixture.close();
                }
            }
        }
        return new Results(peaks, latencies, descriptions);
    }

    /** The round with the median frames/s, carrying the range of all rounds. */
    static PeakRow median(List<PeakRow> rounds) {
        List<PeakRow> sorted = new ArrayList<>(rounds);
        sorted.sort(java.util.Comparator.comparingDouble(PeakRow::framesPerSecond));
        PeakRow middle = sorted.get((sorted.size() - 1) / 2);
        return new PeakRow(middle.fixture(), middle.size(), middle.sessions(), middle.framesPerSecond(),
                sorted.getFirst().framesPerSecond(), sorted.getLast().framesPerSecond(), middle.forwarderCores(),
                middle.processCores(), middle.loadCores(), middle.accounting(), middle.loopThreadCores());
    }

    /** Looks at a forwarder whose endpoints are open and learned. */
    @FunctionalInterface
    public interface ReadyHook {
        void ready(Fixture fixture, int sessions) throws Exception;
    }

    /** Wraps a run, e.g. in a profiler recording of the forwarder. */
    @FunctionalInterface
    public interface RunHook {
        PeakRow around(Fixture fixture, ThrowingSupplier<PeakRow> run) throws Exception;
    }

    @FunctionalInterface
    public interface ThrowingSupplier<T> {
        T get() throws Exception;
    }

    /** Hellos until the switch has learned every endpoint's MAC (resent, bounded: 10 s). */
    private static void learnEveryMac(Fixture fixture, PairedLoad load, int sessions) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long learned;
        while ((learned = fixture.counters().get(Counter.MAC_LEARNED)) < sessions) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(fixture.name() + ": the switch learned only " + learned + " of "
                        + sessions + " MACs in 10 s");
            }
            load.sendHellos();
            Thread.sleep(100);
        }
        load.quiesce(Duration.ofSeconds(2));
    }

    private PeakRow peak(Fixture fixture, PairedLoad load, int size, int sessions) throws InterruptedException {
        int window = Math.max(8, 256 / sessions);
        Map<Counter, Long> before = fixture.counters();
        long wallBefore = System.nanoTime();
        CpuTime forwarderBefore = fixture.cpu();
        long loadCpuBefore = loadCpuNanos();
        PairedLoad.WindowResult result = load.runWindowed(size, window, plan.peakWarmUp(), plan.peakMeasure());
        CpuTime forwarderAfter = fixture.cpu();
        long wall = System.nanoTime() - wallBefore;
        double forwarderCores = (forwarderAfter.loopNanos() - forwarderBefore.loopNanos()) / (double) wall;
        double processCores = forwarderAfter.hasProcess()
                ? (forwarderAfter.processNanos() - forwarderBefore.processNanos()) / (double) wall : Double.NaN;
        double loadCores = (loadCpuNanos() - loadCpuBefore) / (double) wall;
        load.quiesce(Duration.ofSeconds(3));
        Accounting accounting = new Accounting(load.counts(), Accounting.delta(before, fixture.counters()));
        return new PeakRow(fixture.name(), size, sessions, result.framesPerSecond(), result.framesPerSecond(),
                result.framesPerSecond(), forwarderCores, processCores, loadCores, accounting,
                coresByThread(forwarderBefore, forwarderAfter, wall));
    }

    /** Each loop thread's CPU time between two readings per wall second; a thread new since the first counts from 0. */
    static Map<String, Double> coresByThread(CpuTime before, CpuTime after, long wallNanos) {
        Map<String, Double> cores = new java.util.TreeMap<>();
        after.loopThreadNanos().forEach((name, nanos) -> cores.put(name,
                (nanos - before.loopThreadNanos().getOrDefault(name, 0L)) / (double) wallNanos));
        return cores;
    }

    private LatencyRow latency(Fixture fixture, PairedLoad load, int size, int sessions, double fraction,
            double peak) throws InterruptedException {
        Map<Counter, Long> before = fixture.counters();
        double rate = Math.max(100, peak * fraction);
        PairedLoad.PacedResult result = load.runPaced(size, rate, plan.latencyWarmUp(), plan.latencyMeasure());
        load.quiesce(Duration.ofSeconds(3));
        Accounting accounting = new Accounting(load.counts(), Accounting.delta(before, fixture.counters()));
        Histogram h = result.latencyNanos();
        return new LatencyRow(fixture.name(), size, sessions, fraction, rate, result.sentPerSecond(),
                h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue(),
                h.getTotalCount(), accounting);
    }

    private long loadCpuNanos() {
        return Math.max(0, cpu.getThreadCpuTime(loadThread.threadId()));
    }
}
