package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A run of some parts merged into an earlier whole report: theirs replaced, the others kept, the header honest. */
class ReportMergeTest {

    private static final String OLD = """
            # Benchmarks

            Every figure below comes from one run of `relay bench`, on loopback. Compare the ratios.

            - Machine: old machine
            - Started: 2026-12-01T00:00:00Z, took 1200 s

            ## Targets

            | target | measured | same-run baseline | met |
            |---|---|---|---|
            | P1 frames/s | 1 | 2 | **met** |
            | Field ping | 3 | 4 | **not met** |
            | P3 memory | 5 | - | **met** |

            ## Reruns: kept by hand

            old reruns

            ## P1 switch: frames

            old P1

            ## Field: the relay

            old field

            ## P3 scale: memory per idle session

            old P3

            ## P3 scale: CPU per Gbit/s

            old CPU

            ## Profile: where

            old profile
            """;

    private static final String FRESH = """
            # Benchmarks

            Every figure below comes from one run of `relay bench --parts cluster`, on loopback.

            - Machine: new machine

            ## Targets

            | target | measured | same-run baseline | met |
            |---|---|---|---|
            | Cluster two relays | 0.8× | one relay | **met** |

            ## P2 NAT

            Not measured in this run.

            ## Cluster: host to host

            new cluster
            """;

    private static BenchReport.Inputs inputs(String command) {
        return new BenchReport.Inputs(command, "new machine", "2026-12-02T00:00:00Z", 60, null, null, null, null, null,
                null, null, List.of());
    }

    @Test
    void theRunsPartsAreAddedInTheirPlaceAndTheOthersKept() {
        String merged = ReportMerge.merge(OLD, FRESH, EnumSet.of(BenchCommand.Part.cluster),
                inputs("relay bench --parts cluster"));
        assertThat(merged).contains("Every figure below comes from one run of `relay bench` (but the parts listed "
                + "below, each from a run of its own), on loopback.")
                .contains("- The cluster part: from `relay bench --parts cluster`, started 2026-12-02T00:00:00Z, took"
                        + " 60 s; new machine")
                .contains("| P1 frames/s | 1 | 2 | **met** |\n| Field ping | 3 | 4 | **not met** |\n"
                        + "| Cluster two relays | 0.8× | one relay | **met** |\n| P3 memory | 5 | - | **met** |\n")
                .doesNotContain("Not measured in this run");
        assertThat(merged.indexOf("## Field")).isLessThan(merged.indexOf("## Cluster"));
        assertThat(merged.indexOf("## Cluster")).isLessThan(merged.indexOf("## P3 scale: memory"));
        assertThat(merged).contains("old P1", "old field", "new cluster", "old P3", "old CPU", "old profile");
    }

    @Test
    void aSectionNoPartWritesStaysAfterTheTargets() {
        String once = ReportMerge.merge(OLD, FRESH, EnumSet.of(BenchCommand.Part.cluster),
                inputs("relay bench --parts cluster"));
        String twice = ReportMerge.merge(once, FRESH, EnumSet.of(BenchCommand.Part.field),
                inputs("relay bench --parts field"));
        for (String merged : List.of(once, twice)) {
            assertThat(merged).containsOnlyOnce("## Reruns: kept by hand\n\nold reruns\n");
            assertThat(merged.indexOf("## Reruns")).isGreaterThan(merged.indexOf("| P3 memory"))
                    .isLessThan(merged.indexOf("## P1 switch"));
        }
    }

    @Test
    void aLaterRunOfThePartReplacesTheEarlierOneAndItsLine() {
        String once = ReportMerge.merge(OLD, FRESH, EnumSet.of(BenchCommand.Part.cluster),
                inputs("relay bench --parts cluster"));
        String twice = ReportMerge.merge(once, FRESH.replace("new cluster", "newer cluster"),
                EnumSet.of(BenchCommand.Part.cluster), inputs("relay bench --parts cluster --quick"));
        assertThat(twice).contains("newer cluster").doesNotContain("new cluster\n")
                .containsOnlyOnce("- The cluster part:").contains("`relay bench --parts cluster --quick`")
                .containsOnlyOnce("(but the parts listed below, each from a run of its own)")
                .containsOnlyOnce("| Cluster two relays");
    }

    @Test
    void aRunOfThePartsOfTheSwitchReplacesItsThreeSections() {
        String fresh = FRESH.replace("## Cluster: host to host\n\nnew cluster\n", "## P1 switch\n\nnew P1\n\n"
                + "## P3 scale: CPU per Gbit/s\n\nnew CPU\n\n## Profile: where\n\nnew profile\n")
                .replace("| Cluster two relays | 0.8× | one relay | **met** |", "| P1 frames/s | 9 | 9 | **met** |");
        String merged = ReportMerge.merge(OLD, fresh, EnumSet.of(BenchCommand.Part.switching),
                inputs("relay bench --parts switching"));
        assertThat(merged).contains("new P1", "new CPU", "new profile", "old field", "old P3")
                .doesNotContain("old P1", "old CPU", "old profile").contains("| P1 frames/s | 9 | 9 | **met** |")
                .doesNotContain("| P1 frames/s | 1 |");
    }
}
