package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.riscvrelay.relay.bench.FieldBench.Setup;
import dev.riscvrelay.relay.bench.FieldBench.Transfer;
import dev.riscvrelay.relay.testbed.PingTimes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The field part's arithmetic and verdicts: clean over loopback, share of the profile's cap, ping percentiles. */
class FieldResultsTest {

    @TempDir
    Path dir;

    private static NatBench.Sample ok(double mbps) {
        return new NatBench.Sample(mbps, Double.NaN, Double.NaN, null);
    }

    private static NatBench.Stat stat(NatBench.Sample... samples) {
        return new NatBench.Stat(List.of(samples));
    }

    private static PingTimes pings(double p50, double slow) {
        double[] times = new double[100];
        for (int i = 0; i < 100; i++) {
            times[i] = i < 98 ? p50 : slow;
        }
        return new PingTimes(100, times);
    }

    private static FieldBench.Results results(double cleanAToB, double internetDown, boolean lossyFails,
            double idleP50) {
        Map<Setup, Map<Transfer, NatBench.Stat>> transfers = new EnumMap<>(Setup.class);
        transfers.put(Setup.LOOPBACK, new EnumMap<>(Map.of(Transfer.A_TO_B, stat(ok(400), ok(500), ok(300)),
                Transfer.B_TO_A, stat(ok(200), ok(200), ok(200)))));
        transfers.put(Setup.CLEAN, new EnumMap<>(Map.of(Transfer.A_TO_B, stat(ok(cleanAToB), ok(cleanAToB),
                NatBench.Sample.failed("stalled")), Transfer.B_TO_A, stat(ok(100)))));
        transfers.put(Setup.INTERNET, new EnumMap<>(Map.of(Transfer.INTERNET_DOWN, stat(ok(internetDown)),
                Transfer.INTERNET_UP, stat(ok(90), ok(50), ok(70)), Transfer.A_TO_B,
                stat(NatBench.Sample.failed("curl timed out")))));
        transfers.put(Setup.LOSSY, new EnumMap<>(Map.of(Transfer.INTERNET_DOWN, stat(ok(2.5)), Transfer.A_TO_B,
                lossyFails ? stat(NatBench.Sample.failed("download corrupt")) : stat(ok(1.25)))));
        List<FieldBench.PingRow> pings = List.of(new FieldBench.PingRow(FieldBench.GATEWAY, FieldBench.Load.IDLE,
                        pings(idleP50, 1.5)),
                new FieldBench.PingRow(FieldBench.PLAIN_VETH, FieldBench.Load.IDLE, pings(0.05, 0.1)),
                new FieldBench.PingRow(FieldBench.GATEWAY, FieldBench.Load.DOWNLOAD, pings(4, 30)),
                new FieldBench.PingRow(FieldBench.PLAIN_VETH, FieldBench.Load.DOWNLOAD, pings(0.08, 0.2)),
                new FieldBench.PingRow(FieldBench.SLIRP_GATEWAY, FieldBench.Load.DOWNLOAD, pings(0.13, 0.4)),
                new FieldBench.PingRow(FieldBench.FLOOR_GATEWAY, FieldBench.Load.IDLE, pings(0.2, 0.3)),
                new FieldBench.PingRow(FieldBench.FLOOR_GATEWAY, FieldBench.Load.DOWNLOAD, pings(0.25, 0.9)),
                new FieldBench.PingRow(FieldBench.GATEWAY, FieldBench.Load.UPLOAD, pings(0.4, 1.8)),
                new FieldBench.PingRow(FieldBench.GATEWAY, FieldBench.Load.UPLOAD_TAP_QUEUE_1000, pings(9, 40)));
        List<FieldBench.LegsRow> legs = List.of(new FieldBench.LegsRow(FieldBench.GATEWAY, pings(0.6, 2),
                new PingLegs(new double[] {0.2, 0.25}, new double[] {0.3, 0.35}, new double[] {0.1, 0.15})));
        return new FieldBench.Results(FieldBench.Plan.full(), transfers, Map.of(Setup.CLEAN, 1413), pings, legs,
                "method", List.of(), Map.of(Setup.INTERNET, List.of("up forwarded=10 bytes=100 lost=1 oversize=0 queue=0 "
                        + "sendfail=0")), List.of(), STALLS);
    }

    /** Quiet, CPU 0 loses 1.6 to 1.8 ms three times and CPU 1 once 0.7 ms; with the bed idle, once 4 ms. */
    private static final FieldBench.Stalls STALLS = new FieldBench.Stalls(new MachineStalls(10, List.of(
            new MachineStalls.Cpu(0, new double[] {0.1, 0.612, 1.124, 1.3}, new double[] {1.7, 1.8, 1.6, 0.6}),
            new MachineStalls.Cpu(1, new double[] {0.7}, new double[] {0.7}))),
            new MachineStalls(10, List.of(new MachineStalls.Cpu(0, new double[] {2}, new double[] {4}),
                    new MachineStalls.Cpu(1, new double[0], new double[0]))));

    @Test
    void cleanIsComparedWithLoopbackByMediansAndInternetWithItsCap() {
        FieldBench.Results results = results(380, 65, false, 0.3);
        assertThat(results.cleanOverLoopback(Transfer.A_TO_B)).as("380 / 400, the failure left out")
                .isCloseTo(0.95, within(1e-9));
        assertThat(results.cleanOverLoopback(Transfer.B_TO_A)).isCloseTo(0.5, within(1e-9));
        assertThat(results.shareOfCap(Setup.INTERNET, Transfer.INTERNET_DOWN)).isCloseTo(0.65, within(1e-9));
        assertThat(results.shareOfCap(Setup.LOSSY, Transfer.A_TO_B)).isCloseTo(0.025, within(1e-9));
        assertThat(results.shareOfCap(Setup.CLEAN, Transfer.INTERNET_DOWN)).as("no cap").isNaN();
        assertThat(Setup.INTERNET.capMegabits()).isEqualTo(100);
        assertThat(Setup.LOSSY.capMegabits()).isEqualTo(50);
    }

    @Test
    void verdictsFollowTheTargets() {
        List<BenchReport.Verdict> verdicts = new ArrayList<>();
        FieldReport.verdicts(results(380, 65, false, 0.3), verdicts);
        assertThat(verdicts).filteredOn(v -> v.target().contains("clean link ≥ 0.9× all on loopback"))
                .extracting(BenchReport.Verdict::met).containsExactly(true, false);
        assertThat(verdicts).filteredOn(v -> v.target().startsWith("Field internet profile: host ← internet"))
                .singleElement().satisfies(v -> {
                    assertThat(v.met()).isTrue();
                    assertThat(v.measured()).isEqualTo("65.0 Mbit/s = 65%");
                });
        assertThat(verdicts).filteredOn(v -> v.target().startsWith("Field internet profile: host → internet"))
                .singleElement().satisfies(v -> {
                    assertThat(v.met()).as("the median of three rounds, 70 of 100").isTrue();
                    assertThat(v.measured()).isEqualTo("70.0 Mbit/s = 70% (median of 3)");
                });
        assertThat(verdicts).filteredOn(v -> v.target().startsWith("Field internet profile: host a → host b"))
                .singleElement().satisfies(v -> {
                    assertThat(v.met()).as("a failed transfer is not met").isFalse();
                    assertThat(v.measured()).contains("curl timed out");
                });
        assertThat(verdicts).filteredOn(v -> v.target().startsWith("Field lossy")).singleElement()
                .satisfies(v -> assertThat(v.met()).isTrue());
        assertThat(verdicts).as("the TAP-queue baseline is no target").filteredOn(v -> v.target().startsWith("Field ping"))
                .hasSize(3)
                .satisfies(idle -> {
                    assertThat(idle.met()).as("p50 0.3 ms, p99 1.5 ms").isTrue();
                    assertThat(idle.baseline()).contains("plain veth p50 0.050 ms")
                            .contains("; the ping floor (same path, plain UDP, Java) p50 0.200 ms, p99 0.300 ms")
                            .endsWith("; a busy loop on this machine's CPUs stalls up to 1.80 ms quiet, 4.00 ms "
                                    + "with the bed idle");
                }, org.assertj.core.data.Index.atIndex(0))
                .satisfies(loaded -> {
                    assertThat(loaded.met()).isFalse();
                    assertThat(loaded.baseline()).as("stalls are measured idle only").doesNotContain("stall")
                            .as("the floor beside the relay's own download")
                            .contains("; the ping floor (same path, plain UDP, Java) during a download through the "
                                    + "relay: p50 0.250 ms, p99 0.900 ms (100/100 answered)")
                            .as("slirp4netns's series beside the plain veth's")
                            .endsWith("; slirp4netns p50 0.130 ms, p99 0.400 ms (100/100 answered)");
                }, org.assertj.core.data.Index.atIndex(1))
                .satisfies(upload -> {
                    assertThat(upload.target()).contains("during an upload");
                    assertThat(upload.met()).as("p50 0.4 ms, p99 1.8 ms").isTrue();
                    assertThat(upload.baseline()).as("no plain-veth series under upload").isEqualTo("-");
                }, org.assertj.core.data.Index.atIndex(2));

        List<BenchReport.Verdict> worse = new ArrayList<>();
        FieldReport.verdicts(results(300, 59, true, 0.6), worse);
        assertThat(worse).filteredOn(v -> v.target().startsWith("Field lossy")).singleElement()
                .satisfies(v -> assertThat(v.met()).as("a corrupt transfer").isFalse());
        assertThat(worse).filteredOn(v -> v.target().startsWith("Field internet profile: host ← internet"))
                .singleElement().satisfies(v -> assertThat(v.met()).as("59% of the cap").isFalse());
        assertThat(worse).filteredOn(v -> v.target().startsWith("Field ping")).first()
                .satisfies(v -> assertThat(v.met()).as("p50 0.6 ms").isFalse());
    }

    @Test
    void theReportHasTheFieldSectionWithItsThreeTables() throws Exception {
        BenchReport.Inputs inputs = new BenchReport.Inputs("relay bench --parts field", "2 × test CPU",
                "2026-12-02T00:00:00Z", 300, null, null, results(380, 65, false, 0.3), null, null, null, null, List.of());
        String md = Files.readString(BenchReport.write(dir, inputs));
        assertThat(md).contains("## Field: the relay across 1500-MTU links")
                .contains("| host a → host b (GET) | 400 (300..500) | 380 (380..380) 1 failed | 0.95× |")
                .contains("| internet profile | 50 MB | 65.0 = 65% of 100 | 70.0 (50.0..90.0) = 70% of 100 | failed | - |")
                .contains("| lossy profile | 2 MB | 2.5 = 5% of 50 | - | 1.3 = 3% of 50 | - |")
                .contains("internet: up forwarded=10")
                .contains("| idle | 10.0.2.2 through the relay | 100/100 | 0.300 ms | 1.500 ms | 1.500 ms |")
                .contains("| during a download | 10.0.2.2 through slirp4netns | 100/100 | 0.130 ms | 0.400 ms |")
                .contains("| during an upload, TAP queue 1000 (Linux's default) | 10.0.2.2 through the relay | 100/100 | 9.000 ms |")
                .contains("- internet profile, host a → host b (GET): curl timed out")
                .contains("before the bed started in 10 s, CPU 0: 4 over 0.5 ms, the largest 1.80 ms; "
                        + "CPU 1: 1 over 0.5 ms, the largest 0.70 ms; with the bed idle, "
                        + "before the pings in 10 s, CPU 0: 1 over 0.5 ms, the largest 4.00 ms; CPU 1: 0 over 0.5 ms, "
                        + "the largest 0.00 ms. A ping through the relay")
                .contains("| 10.0.2.2 through the relay | 2 pings | 0.200 ms / 0.250 ms | 0.300 ms / 0.350 ms | "
                        + "0.100 ms / 0.150 ms | 0.600 ms / 0.600 ms |");
    }

    @Test
    void theRelaysDropsDuringATransferAreWhatGrewByReason() {
        List<String> before = List.of("relay_drops_total{reason=\"queue_full\"} 568.0",
                "relay_nat_tcp_retransmits_total 22.0", "relay_drops_total{reason=\"recovery_duplicate\"} 3.0");
        List<String> after = List.of("relay_drops_total{reason=\"queue_full\"} 600.0",
                "relay_nat_tcp_retransmits_total 40.0", "relay_drops_total{reason=\"recovery_duplicate\"} 3.0",
                "relay_drops_total{reason=\"handoff_full\"} 1.0");
        assertThat(FieldBench.dropsBetween(before, after)).isEqualTo("handoff_full 1, queue_full 32");
        assertThat(FieldBench.dropsBetween(after, after)).isEqualTo("nothing");
    }
}
