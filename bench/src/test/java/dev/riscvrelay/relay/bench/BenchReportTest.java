package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchReportTest {

    @TempDir
    Path dir;

    private static Accounting clean(long frames) {
        Map<Counter, Long> delta = new EnumMap<>(Counter.class);
        delta.put(Counter.FRAMES_IN, frames);
        delta.put(Counter.FRAMES_OUT, frames);
        return new Accounting(new LoadCounts(frames, 0, frames, 0, 0, 0, 0), delta);
    }

    private static SwitchBench.PeakRow peak(String fixture, double fps) {
        return new SwitchBench.PeakRow(fixture, 1200, 2, fps, fps * 0.9, fps * 1.1, 0.9, 1.1, 0.8, clean(1000),
                java.util.Map.of());
    }

    private static SwitchBench.LatencyRow latency(String fixture, double fraction, long p99) {
        return new SwitchBench.LatencyRow(fixture, 1200, 2, fraction, 1000, 1000, p99 / 4, p99, p99 * 2, p99 * 3,
                1000, clean(1000));
    }

    private static BenchReport.Inputs inputs(double relayFps, long relayP99) {
        SwitchBench.Results switching = new SwitchBench.Results(
                List.of(peak(BenchReport.RELAY, relayFps), peak(BenchReport.QUIC, 80_000),
                        peak(BenchReport.UDP, 100_000)),
                List.of(latency(BenchReport.RELAY, 0.1, 200_000), latency(BenchReport.RELAY, 0.5, relayP99),
                        latency(BenchReport.QUIC, 0.1, 150_000), latency(BenchReport.QUIC, 0.5, 300_000),
                        latency(BenchReport.UDP, 0.1, 100_000), latency(BenchReport.UDP, 0.5, 120_000)),
                List.of("relay: the relay", "plain UDP: a forwarder"));
        ScaleBench.Results scale = new ScaleBench.Results(100L << 20, 10L << 20,
                List.of(new ScaleBench.Level(1000, (100L << 20) + 1000 * 50 * 1024L, 20L << 20, 50 * 1024, 2.5)),
                "method", "");
        MicroBench.Results micro = new MicroBench.Results(List.of(new MicroBench.Row("switchForward", 20.5, 0.0),
                new MicroBench.Row("allocating", 30, 24.0)), "JMH");
        return new BenchReport.Inputs("relay bench --quick", "2 × test CPU", "2026-11-25T00:00:00Z", 42, switching,
                null, null, null, scale, micro, null, List.of());
    }

    @Test
    void targetsAreJudgedFromTheSameRunsBaseline() {
        List<BenchReport.Verdict> verdicts = BenchReport.verdicts(inputs(60_000, 800_000));
        assertThat(verdicts).filteredOn(v -> v.target().startsWith("P1 frames/s")).singleElement()
                .satisfies(v -> {
                    assertThat(v.met()).isTrue();
                    assertThat(v.measured()).contains("0.60×");
                    assertThat(v.baseline()).contains("100,000");
                });
        assertThat(verdicts).filteredOn(v -> v.target().startsWith("P1 p99")).singleElement()
                .satisfies(v -> assertThat(v.met()).isTrue());
        assertThat(verdicts).filteredOn(v -> v.target().startsWith("P3")).singleElement()
                .satisfies(v -> assertThat(v.met()).isTrue());
        assertThat(verdicts).filteredOn(v -> v.target().contains("allocating")).singleElement()
                .satisfies(v -> assertThat(v.met()).isFalse());
    }

    @Test
    void slowerThanHalfTheBaselineOrSlowTailIsNotMet() {
        List<BenchReport.Verdict> verdicts = BenchReport.verdicts(inputs(40_000, 1_500_000));
        assertThat(verdicts).filteredOn(v -> v.target().startsWith("P1")).allSatisfy(v -> assertThat(v.met())
                .isFalse());
    }

    @Test
    void aRatioWithoutABaselineReadsAsADashNotNaN() {
        assertThat(BenchReport.times(0.7712)).isEqualTo("0.77×");
        assertThat(BenchReport.times(Double.NaN)).isEqualTo("-");
        assertThat(BenchReport.times(1.0 / 0.0)).isEqualTo("-");
        assertThat(BenchReport.orDash("%.0f", Double.NaN)).isEqualTo("-");
        assertThat(BenchReport.orDash("%.2f%%", 0.125)).isEqualTo("0.13%");
    }

    @Test
    void writesMarkdownWithTablesAndReadablePngs() throws Exception {
        Path file = BenchReport.write(dir, inputs(60_000, 800_000));
        String md = Files.readString(file);
        assertThat(md).startsWith("# Benchmarks")
                .contains("`relay bench --quick`")
                .contains("| 1200 B | 2 | 60,000 | 80,000 | 100,000 | 0.60 | 0.75 |")
                .contains("![P1 peak frames per second](p1-peak-frames.png)")
                .contains("**met**")
                .contains("**not met**")
                .contains("| 1,000 | ")
                .contains("switchForward");
        for (String png : List.of("p1-peak-frames.png", "p1-latency-p99-1200B-2s.png")) {
            assertThat(md).contains("(" + png + ")");
            BufferedImage image = ImageIO.read(dir.resolve(png).toFile());
            assertThat(image).as(png).isNotNull();
            assertThat(image.getWidth()).isEqualTo(900);
        }
    }

    @Test
    void axisLabelsAreShort() {
        assertThat(Charts.human(0)).isEqualTo("0");
        assertThat(Charts.human(1500)).isEqualTo("1.5k");
        assertThat(Charts.human(2_000_000)).isEqualTo("2M");
        assertThat(Charts.human(12.345)).isEqualTo("12.35");
    }

    @Test
    void theMedianRoundCarriesTheRange() {
        SwitchBench.PeakRow median = SwitchBench.median(List.of(peak("relay", 300), peak("relay", 100),
                peak("relay", 200)));
        assertThat(median.framesPerSecond()).isEqualTo(200);
        assertThat(median.minFramesPerSecond()).isEqualTo(100);
        assertThat(median.maxFramesPerSecond()).isEqualTo(300);
    }
}
