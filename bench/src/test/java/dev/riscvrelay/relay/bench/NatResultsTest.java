package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The P2 arithmetic and verdicts: medians over rounds with failures left out, ratios, the slirp4netns target. */
class NatResultsTest {

    @TempDir
    Path dir;

    private static NatBench.Sample ok(double mbps) {
        return new NatBench.Sample(mbps, 50, Double.NaN, null);
    }

    private static NatBench.PeerResult peer(String name, double down, double up) {
        Map<NatBench.Test, NatBench.Stat> stats = new EnumMap<>(NatBench.Test.class);
        stats.put(NatBench.Test.DOWNLOAD, new NatBench.Stat(List.of(ok(down * 0.9), ok(down), ok(down * 1.5))));
        stats.put(NatBench.Test.UPLOAD, new NatBench.Stat(List.of(ok(up), NatBench.Sample.failed("stalled"))));
        stats.put(NatBench.Test.UDP_UP, new NatBench.Stat(List.of(new NatBench.Sample(90, 20, 1.5, null))));
        return new NatBench.PeerResult(name, name + " described", 1500, stats);
    }

    private static NatBench.Results results(double relayDown, double relayUp) {
        return new NatBench.Results(NatBench.Plan.full(), List.of(peer(NatBench.RELAY, relayDown, relayUp),
                peer(NatBench.SLIRP, 2000, 800), peer(NatBench.PASTA, 8000, 4000), peer(NatBench.PASTA_1500, 1500,
                        6000)), "method", List.of(), List.of(), List.of("relay_drops_total{reason=\"x\"} 3"));
    }

    @Test
    void theMedianLeavesFailuresOutAndAveragesTheMiddleOfAnEvenCount() {
        NatBench.Stat stat = new NatBench.Stat(List.of(ok(30), NatBench.Sample.failed("timed out"), ok(10), ok(20),
                ok(100)));
        assertThat(stat.median()).isEqualTo(25);
        assertThat(stat.min()).isEqualTo(10);
        assertThat(stat.max()).isEqualTo(100);
        assertThat(stat.errors()).containsExactly("timed out");
        assertThat(new NatBench.Stat(List.of(NatBench.Sample.failed("x"))).median()).isNaN();
    }

    @Test
    void ratiosAreOfMedians() {
        NatBench.Results results = results(3000, 400);
        assertThat(NatBench.ratio(results, NatBench.Test.DOWNLOAD, NatBench.SLIRP)).isCloseTo(1.5, within(1e-9));
        assertThat(NatBench.ratio(results, NatBench.Test.UPLOAD, NatBench.PASTA)).isCloseTo(0.1, within(1e-9));
        assertThat(NatBench.ratio(results, NatBench.Test.IPERF_UP, NatBench.SLIRP)).isNaN();
    }

    @Test
    void theTargetIsAtLeastSlirp4netnsForDownloadAndUploadWithPastasRatioBeside() {
        List<BenchReport.Verdict> verdicts = new ArrayList<>();
        BenchReport.natVerdicts(results(3000, 400), verdicts);
        assertThat(verdicts).hasSize(2);
        assertThat(verdicts.get(0).target()).isEqualTo("P2 NAT TCP curl download (200 MB) ≥ 1× slirp4netns");
        assertThat(verdicts.get(0).met()).isTrue();
        assertThat(verdicts.get(0).measured()).contains("3,000 Mbit/s = 1.50× slirp4netns").contains("0.38× pasta")
                .contains("2.00× pasta -m 1500");
        assertThat(verdicts.get(1).target()).contains("curl upload (100 MB)");
        assertThat(verdicts.get(1).met()).isFalse();
        assertThat(verdicts.get(1).baseline()).isEqualTo("slirp4netns 800 Mbit/s");
    }

    @Test
    void exactlyAsFastAsSlirp4netnsMeetsTheTarget() {
        List<BenchReport.Verdict> verdicts = new ArrayList<>();
        BenchReport.natVerdicts(results(2000, 800), verdicts);
        assertThat(verdicts).allMatch(BenchReport.Verdict::met);
    }

    @Test
    void withoutSlirp4netnsThereIsNoVerdict() {
        NatBench.Results results = new NatBench.Results(NatBench.Plan.quick(),
                List.of(peer(NatBench.RELAY, 100, 100)), "m", List.of("slirp4netns not measured"), List.of(),
                List.of());
        List<BenchReport.Verdict> verdicts = new ArrayList<>();
        BenchReport.natVerdicts(results, verdicts);
        assertThat(verdicts).isEmpty();
    }

    @Test
    void theReportHasTheP2TableRatiosFailuresCountersAndChart() throws Exception {
        BenchReport.Inputs inputs = new BenchReport.Inputs("relay bench --parts nat", "2 × test CPU",
                "2026-11-25T00:00:00Z", 60, null, results(3000, 400), null, null, null, null, null, List.of());
        Path file = BenchReport.write(dir, inputs);
        String md = Files.readString(file);
        assertThat(md).contains("## P2 NAT: bulk TCP and UDP from a VM to the internet")
                .contains("| relay | 1500 | 3,000 (2,700..4,500) | 50 |")
                .contains("400 (400..400) 1 failed")
                .contains("| slirp4netns | 1.50× | 0.50× |")
                .contains("relay, curl upload: stalled")
                .contains("relay_drops_total{reason=\"x\"} 3")
                .contains("| P2 NAT TCP curl download (200 MB) ≥ 1× slirp4netns |")
                .contains("![P2 NAT throughput](p2-nat-throughput.png)");
        assertThat(dir.resolve("p2-nat-throughput.png")).isNotEmptyFile();
    }

    @Test
    void withoutRootTheReportSaysWhyP2IsMissing() throws Exception {
        BenchReport.Inputs inputs = new BenchReport.Inputs("relay bench --parts nat", "m", "t", 1, null, null, null,
                null, null, null, null, List.of(BenchCommand.NAT_NEEDS_ROOT));
        String md = Files.readString(BenchReport.write(dir, inputs));
        assertThat(md).contains("## P2 NAT\n\nNot measured in this run: P2 needs root (network namespaces).");
    }
}
