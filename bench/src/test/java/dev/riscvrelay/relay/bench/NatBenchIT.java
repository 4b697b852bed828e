package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * P2 end to end at a tiny size: the real relay and {@code relay connect} (in the VM's namespace, across a
 * 1500-MTU veth to the relay), slirp4netns and pasta in namespaces,
 * one round of 5 MB down, 2.5 MB up and 1-second iperf3 runs each; the report gets its table, and nothing is left
 * behind. Needs root and the tools of scripts/install-test-deps.sh.
 */
class NatBenchIT {

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void everyPeerMovesVerifiedBytesAndTheReportHasP2() throws Exception {
        List<String> missing = Namespaces.missingTools(NatBench.TOOLS.toArray(String[]::new));
        assertThat(missing).as("tools P2 needs (scripts/install-test-deps.sh installs them)").isEmpty();
        assertThat(Namespaces.isRoot()).as("P2 needs root (network namespaces)").isTrue();
        Set<String> namespacesBefore = namespaces();
        StringWriter log = new StringWriter();
        long start = System.nanoTime();
        NatBench.Results results = new NatBench(new NatBench.Plan(5L << 20, 1, 1, 20_000_000L, null),
                new PrintWriter(log, true)).run();
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        System.out.println(log);
        System.out.println("[facts] P2 at 5 MB, one round, took " + seconds + " s");

        assertThat(results.notes()).as("peers that did not start").isEmpty();
        assertThat(results.peers()).extracting(NatBench.PeerResult::peer)
                .containsExactly(NatBench.RELAY, NatBench.SLIRP, NatBench.PASTA, NatBench.PASTA_1500);
        NatBench.PeerResult relay = results.peer(NatBench.RELAY).orElseThrow();
        for (NatBench.Test test : NatBench.Test.values()) {
            assertThat(relay.stat(test).errors()).as("relay " + test.label).isEmpty();
            assertThat(relay.stat(test).median()).as("relay " + test.label).isPositive();
            assertThat(relay.stat(test).cpuMedian()).as("relay CPU during " + test.label).isPositive();
        }
        assertThat(relay.vmMtu()).isBetween(1200, 1500);
        assertThat(relay.description()).as("the connector reaches the relay across a link, not loopback")
                .contains("joined by a 1500-MTU veth");
        assertThat(relay.stat(NatBench.Test.UDP_UP).lossMedian()).isBetween(0.0, 100.0);
        for (String baseline : List.of(NatBench.SLIRP, NatBench.PASTA_1500)) {
            NatBench.PeerResult peer = results.peer(baseline).orElseThrow();
            assertThat(peer.vmMtu()).isEqualTo(1500);
            assertThat(peer.stat(NatBench.Test.DOWNLOAD).errors()).as(baseline + " download").isEmpty();
        }
        assertThat(results.peer(NatBench.PASTA).orElseThrow().vmMtu()).isEqualTo(65520);
        // New since the start and no longer part of a live test bed run (other runs may work beside this one).
        assertThat(namespaces()).as("namespaces the run left behind")
                .filteredOn(name -> !namespacesBefore.contains(name) && name.startsWith("rr-"))
                .filteredOn(name -> !Files.exists(Path.of("/run/rr-testbed", name.split("-", 3)[1])))
                .isEmpty();

        BenchReport.Inputs inputs = new BenchReport.Inputs("relay bench --parts nat", "test", "now", seconds, null,
                results, null, null, null, null, null, List.of());
        String md = Files.readString(BenchReport.write(dir, inputs));
        assertThat(md).contains("## P2 NAT: bulk TCP and UDP from a VM to the internet").contains("| relay | ")
                .contains("| slirp4netns | ").contains("≥ 1× slirp4netns");
    }

    private static Set<String> namespaces() throws IOException {
        try (Stream<Path> entries = Files.list(Path.of("/run/netns"))) {
            return entries.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }
}
