package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.ops.api.ApiJson;
import dev.riscvrelay.relay.ops.api.MemberPage;
import dev.riscvrelay.relay.ops.api.MemberView;
import dev.riscvrelay.relay.ops.api.NetworkView;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The workers part's pure logic: where sessions landed, each worker's CPU, the arithmetic, the section's words. */
class WorkersReportTest {

    @TempDir
    Path dir;

    private static MemberView member(long mac, int worker) {
        return new MemberView(new long[] {mac}, new int[0], "webtransport", new InetSocketAddress("127.0.0.1", 40000),
                0, worker, 1, 2, 3, 4, Map.of("queue_full", 1L), new int[3]);
    }

    @Test
    void landingsComeFromTheRelaysMemberApiByTheBenchsMacs() {
        List<NetworkView> networks = List.of(
                new NetworkView("default", 0, 1, 0, 0, List.of(member(0x0a00_0000_0001L, 0))),
                new NetworkView("bench-0", 1, 2, 0, 0, List.of(member(BenchFrames.macOf(0), 1),
                        member(BenchFrames.macOf(1), 0))),
                new NetworkView("bench-1", 3, 2, 0, 0, List.of(member(BenchFrames.macOf(3), 3),
                        new MemberView(new long[0], new int[0], "webtransport", null, 0, 2, 0, 0, 0, 0, Map.of(),
                                new int[3]),
                        member(BenchFrames.macOf(2), 2))));

        List<WorkersBench.Landing> landings = WorkersReport.landings(ApiJson.networks(networks, MemberPage.first()), 4);

        assertThat(landings).containsExactly(new WorkersBench.Landing(0, "bench-0", 1, 1),
                new WorkersBench.Landing(1, "bench-0", 0, 1), new WorkersBench.Landing(2, "bench-1", 2, 3),
                new WorkersBench.Landing(3, "bench-1", 3, 3));
        WorkersBench.Run run = new WorkersBench.Run(4, peak("relay --workers 4", 100, 1, Map.of()), landings);
        assertThat(WorkersReport.sessionsPerWorker(run)).isEqualTo("w0 1, w1 1, w2 1, w3 1");
        assertThat(WorkersReport.networksPerWorker(run)).isEqualTo("w0 0, w1 1, w2 0, w3 1");
        assertThat(WorkersReport.crossingSessions(run)).isEqualTo(2);
        assertThat(WorkersReport.sessionsPerWorker(new WorkersBench.Run(2, run.peak(), List.of()))).isEqualTo("-");
    }

    @Test
    void workerThreadsAreToldApartByTheirNumber() {
        assertThat(WorkersReport.workerIndex("relay-worker-0")).isZero();
        assertThat(WorkersReport.workerIndex("relay-worker-12")).isEqualTo(12);
        assertThat(WorkersReport.workerIndex("loadgen-1-1")).isEqualTo(-1);
        SwitchBench.PeakRow peak = peak("relay --workers 4", 100, 1.5, Map.of("relay-worker-10", 0.1,
                "relay-worker-2", 0.2, "relay-worker-0", 0.9));
        assertThat(WorkersReport.workerCores(peak)).containsExactly(Map.entry(0, 0.9), Map.entry(2, 0.2),
                Map.entry(10, 0.1));
        assertThat(WorkersReport.threadCores(peak)).isEqualTo("w0 0.90, w2 0.20, w10 0.10");
    }

    @Test
    void aLoopThreadsCoresAreItsTimeBetweenTwoReadingsPerWallSecond() {
        CpuTime before = new CpuTime(10, 100, Map.of("relay-worker-0", 10L));
        CpuTime after = new CpuTime(1_010, 2_000, Map.of("relay-worker-0", 510L, "relay-worker-1", 500L));

        Map<String, Double> cores = SwitchBench.coresByThread(before, after, 1_000);

        assertThat(cores).containsEntry("relay-worker-0", 0.5).containsEntry("relay-worker-1", 0.5);
    }

    @Test
    void ratiosAndFramesPerCpuSecondAreAgainstTheFirstRelay() {
        WorkersBench.Results results = results(1.0, 1.5, 0.7, 0.55, 120_000);
        WorkersBench.Run two = results.runs().get(1);

        assertThat(WorkersReport.ratio(results, two)).isCloseTo(1.2, within(1e-9));
        assertThat(WorkersReport.framesPerCpuSecond(two.peak())).isCloseTo(80_000, within(1e-6));
        assertThat(WorkersReport.efficiencyRatio(results, two)).isCloseTo(0.8, within(1e-9));
    }

    @Test
    void whatTheMachineShowsIsWordedFromTheNumbers() {
        // Two workers: above one core, the machine full, each frame dearer.
        List<String> full = WorkersReport.findings(results(1.0, 1.5, 0.7, 0.55, 120_000));
        assertThat(full.getFirst()).contains("used 1.50 cores (above one core)").contains("cores were full")
                .contains("took 25% more of the relay's CPU");
        assertThat(full.getFirst()).contains("8 of its 16 sessions sat on another worker");
        assertThat(full).anySatisfy(f -> assertThat(f).contains("worker 1, at 0.95 cores")
                .contains("networks per worker: w0 4, w1 4").contains("near 126,316 frames/s"));
        assertThat(full.getLast()).contains("cannot show that growth");

        // Two workers that stay under one core on an idle machine and keep the cost per frame.
        List<String> spare = WorkersReport.findings(results(0.9, 1.0, 0.3, 0.6, 95_000));
        assertThat(spare.getFirst()).contains("(not above one core)").contains("were busy")
                .contains("stayed about the same");
        assertThat(spare.getLast()).contains("used 1.30 of the machine's 2 cores");

        // Two workers that each frame costs less: said so, not "the same".
        assertThat(WorkersReport.findings(results(1.0, 1.0, 0.3, 0.6, 150_000)).getFirst())
                .contains("took 33% less of the relay's CPU");
    }

    @Test
    void theSectionHasARowPerRelayAndMergesAsThePartOfItsOwn() throws Exception {
        BenchReport.Inputs inputs = new BenchReport.Inputs("relay bench --parts workers", "2 × test CPU",
                "2026-12-03T00:00:00Z", 90, null, null, null, null, results(1.0, 1.5, 0.7, 0.55, 120_000), null,
                null, null, List.of());
        String md = Files.readString(BenchReport.write(dir, inputs));

        assertThat(md).contains("## Workers: P1 peak against `--workers`")
                .contains("16 sessions in 8 networks")
                .contains("| 1 | 100,000 (90,000..110,000) | 1.00× | 960 | 1.00 | w0 1.00 | 100,000 | 1.00× | 0.90 "
                        + "| w0 16 | w0 8 |")
                .contains("| 2 | 120,000 (108,000..132,000) | 1.20× | 1,152 | 1.50 | w0 0.55, w1 0.95 | 80,000 "
                        + "| 0.80× | 0.70 | w0 8, w1 8 | w0 4, w1 4 |")
                .contains("What this machine shows:");

        String old = md.replace("## Workers: P1 peak", "## Micro-benchmarks (JMH, `-prof gc`)\n\nold micro\n\n"
                + "## Workers: P1 peak").replace("| 2 | 120,000", "| 2 | 1");
        String merged = ReportMerge.merge(old, md, EnumSet.of(BenchCommand.Part.workers), inputs);
        assertThat(merged).contains("| 2 | 120,000").contains("old micro").contains("- The workers part: from `relay "
                + "bench --parts workers`");
    }

    private static WorkersBench.Results results(double oneCores, double twoCores, double twoLoad, double twoLan,
            double twoFps) {
        List<WorkersBench.Landing> one = new ArrayList<>();
        List<WorkersBench.Landing> two = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            one.add(new WorkersBench.Landing(i, RelayProcessFixture.network(i), 0, 0));
            two.add(new WorkersBench.Landing(i, RelayProcessFixture.network(i), i % 2, (i / 2) % 2));
        }
        return new WorkersBench.Results(WorkersBench.Plan.quick(), List.of(
                new WorkersBench.Run(1, peak("relay --workers 1", 100_000 * oneCores, oneCores, 0.9,
                        Map.of("relay-worker-0", oneCores)), one),
                new WorkersBench.Run(2, peak("relay --workers 2", twoFps, twoCores, twoLoad,
                        Map.of("relay-worker-0", twoLan, "relay-worker-1", twoCores - twoLan)), two)), 2);
    }

    private static SwitchBench.PeakRow peak(String name, double fps, double process, Map<String, Double> threads) {
        return peak(name, fps, process, 0.9, threads);
    }

    private static SwitchBench.PeakRow peak(String name, double fps, double process, double load,
            Map<String, Double> threads) {
        Map<Counter, Long> delta = new EnumMap<>(Counter.class);
        delta.put(Counter.FRAMES_IN, 1000L);
        delta.put(Counter.FRAMES_OUT, 1000L);
        Accounting clean = new Accounting(new LoadCounts(1000, 0, 1000, 0, 0, 0, 0), delta);
        double loops = threads.values().stream().mapToDouble(Double::doubleValue).sum();
        return new SwitchBench.PeakRow(name, 1200, 16, fps, fps * 0.9, fps * 1.1, loops, process, load, clean,
                threads);
    }

}
