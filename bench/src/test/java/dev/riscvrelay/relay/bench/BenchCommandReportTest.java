package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A part that was asked for and not measured is the run's failure, never a hole in an earlier report. */
class BenchCommandReportTest {

    private static final String FAILED = "P2 NAT failed: P2 needs iperf3 (scripts/install-test-deps.sh installs them)";

    private static BenchReport.Inputs nothingMeasured() {
        return new BenchReport.Inputs("relay bench --parts nat,micro", "a machine", "2026-12-06T00:00:00Z", 1, null,
                null, null, null, null, null, null, List.of(FAILED));
    }

    @Test
    void partsWithoutResultsAreUnmeasured() {
        assertThat(BenchCommand.unmeasured(EnumSet.of(BenchCommand.Part.nat, BenchCommand.Part.micro),
                nothingMeasured())).containsExactlyInAnyOrder(BenchCommand.Part.nat, BenchCommand.Part.micro);
    }

    @Test
    void anEarlierReportStaysAsItWasWhenNothingWasMeasured(@TempDir Path out) throws Exception {
        Path file = out.resolve("BENCHMARKS.md");
        String earlier = "# Benchmarks\n\n## Targets\n\n| P2 NAT TCP curl download | 1,936 Mbit/s | x | **met** |\n\n"
                + "## P2 NAT: bulk TCP\n\nthe earlier figures\n";
        Files.writeString(file, earlier);

        Path written = BenchCommand.report(out, nothingMeasured(), EnumSet.noneOf(BenchCommand.Part.class),
                EnumSet.of(BenchCommand.Part.nat, BenchCommand.Part.micro));

        assertThat(written).isNull();
        assertThat(Files.readString(file)).isEqualTo(earlier);
    }

    @Test
    void aFirstReportSaysWhyAPartIsMissing(@TempDir Path out) throws Exception {
        Path written = BenchCommand.report(out, nothingMeasured(), EnumSet.noneOf(BenchCommand.Part.class),
                EnumSet.of(BenchCommand.Part.nat, BenchCommand.Part.micro));

        assertThat(written).isEqualTo(out.resolve("BENCHMARKS.md"));
        assertThat(Files.readString(written)).contains(FAILED);
    }
}
