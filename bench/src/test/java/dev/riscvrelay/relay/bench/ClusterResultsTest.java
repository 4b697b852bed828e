package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.riscvrelay.relay.bench.ClusterBench.Placement;
import dev.riscvrelay.relay.bench.ClusterBench.Transfer;
import dev.riscvrelay.relay.testbed.PingTimes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster part's arithmetic and verdicts: two relays over one, the added ping time, the report's tables. */
class ClusterResultsTest {

    @TempDir
    Path dir;

    private static NatBench.Stat stat(double... mbps) {
        return new NatBench.Stat(java.util.Arrays.stream(mbps)
                .mapToObj(m -> new NatBench.Sample(m, Double.NaN, Double.NaN, null)).toList());
    }

    private static PingTimes pings(double p50, double slow) {
        double[] times = new double[100];
        for (int i = 0; i < 100; i++) {
            times[i] = i < 98 ? p50 : slow;
        }
        return new PingTimes(100, times);
    }

    private static ClusterBench.Results results(double twoGet, double twoPingP50) {
        Map<Placement, Map<Transfer, NatBench.Stat>> transfers = new EnumMap<>(Placement.class);
        transfers.put(Placement.ONE_RELAY, new EnumMap<>(Map.of(Transfer.GET, stat(300, 400, 200),
                Transfer.PUT, stat(200))));
        transfers.put(Placement.TWO_RELAYS, new EnumMap<>(Map.of(Transfer.GET, stat(twoGet),
                Transfer.PUT, stat(90))));
        Map<Placement, PingTimes> pings = new EnumMap<>(Map.of(Placement.ONE_RELAY, pings(0.4, 2),
                Placement.TWO_RELAYS, pings(twoPingP50, 5)));
        return new ClusterBench.Results(ClusterBench.Plan.full(), transfers, pings,
                List.of(new ClusterBench.TrunkRate("r1", 9000, 4000, 12.5)), List.of("r1: relay_drops_total 3"),
                "method");
    }

    @Test
    void twoRelaysAreComparedWithOneRelayOfTheSameRun() {
        ClusterBench.Results results = results(150, 0.9);
        assertThat(results.twoOverOne(Transfer.GET)).isCloseTo(0.5, within(1e-9));
        assertThat(results.twoOverOne(Transfer.PUT)).isCloseTo(0.45, within(1e-9));
        assertThat(results.addedMillis(50)).isCloseTo(0.5, within(1e-9));
        assertThat(results.addedMillis(99)).isCloseTo(3, within(1e-9));
    }

    @Test
    void verdictsFollowTheTargets() {
        List<BenchReport.Verdict> verdicts = new java.util.ArrayList<>();
        ClusterReport.verdicts(results(150, 0.9), verdicts);
        assertThat(verdicts).extracting(BenchReport.Verdict::met).containsExactly(true, false, true);
        verdicts.clear();
        ClusterReport.verdicts(results(149, 1.5), verdicts);
        assertThat(verdicts).extracting(BenchReport.Verdict::met).containsExactly(false, false, false);
    }

    @Test
    void theReportHasTheClusterSection() throws Exception {
        BenchReport.Inputs inputs = new BenchReport.Inputs("relay bench --parts cluster", "2 × test CPU",
                "2026-12-02T00:00:00Z", 60, null, null, null, results(150, 0.9), null, null, null, List.of());
        String md = Files.readString(BenchReport.write(dir, inputs));
        assertThat(md).contains("## Cluster: host to host across two relays on NATS")
                .contains("| host a → other host (GET) | 300 (200..400) | 150 (150..150) | 0.50× |")
                .contains("| r1 | 9,000 | 4,000 | 12.5 |")
                .contains("r1: relay_drops_total 3")
                .contains("Cluster ping host to host: two relays add < 1 ms at p50");
    }
}
