package dev.riscvrelay.relay.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The baseline every later benchmark compares with: two namespaces on a veth pair, kernel to kernel. */
class NetnsTestBedIT {

    @Test
    void twoNamespacesOnAVethPairPingEachOtherAndAreGoneAfterClose() {
        NetnsTestBed.requireTools("ip", "ping");
        String left;
        String right;
        try (NetnsTestBed bed = NetnsTestBed.create()) {
            Namespace a = bed.addNamespace("a");
            Namespace b = bed.addNamespace("b");
            left = a.name();
            right = b.name();
            assertThat(left).startsWith("rr-" + bed.id() + "-");
            bed.addVethPair(a, "eth0", b, "eth0");
            a.exec("ip", "address", "add", "10.0.2.15/24", "dev", "eth0").orThrow();
            b.exec("ip", "address", "add", "10.0.2.16/24", "dev", "eth0").orThrow();

            CommandResult aToB = a.exec(Duration.ofSeconds(10), "ping", "-c", "2", "-i", "0.2", "-W", "2",
                    "10.0.2.16");
            CommandResult bToA = b.exec(Duration.ofSeconds(10), "ping", "-c", "2", "-i", "0.2", "-W", "2",
                    "10.0.2.15");

            assertThat(aToB.succeeded()).as(aToB.describe()).isTrue();
            assertThat(bToA.succeeded()).as(bToA.describe()).isTrue();
            assertThat(aToB.stdout()).contains("2 received");
        }
        assertThat(Path.of("/run/netns", left)).doesNotExist();
        assertThat(Path.of("/run/netns", right)).doesNotExist();
    }

    @Test
    void commandsAreKilledAtTheirTimeout() {
        try (NetnsTestBed bed = NetnsTestBed.create()) {
            Namespace a = bed.addNamespace("slow");
            long start = System.nanoTime();
            CommandResult result = a.exec(Duration.ofMillis(500), "sleep", "30");
            assertThat(result.timedOut()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void leftoversOfACrashedRunAreRemovedButLiveRunsAreKept() {
        // A run id with no live JVM behind it: what a crashed run leaves.
        String stale = "rr-dead00-x";
        NetnsTestBed.run(Duration.ofSeconds(10), "ip", "netns", "add", stale).orThrow();
        try (NetnsTestBed live = NetnsTestBed.create()) {
            Namespace kept = live.addNamespace("live");
            assertThat(Path.of("/run/netns", stale)).as("create() removes stale namespaces").doesNotExist();

            NetnsTestBed.removeStaleNamespaces();

            assertThat(Files.exists(kept.path())).as("a live run's namespace survives cleanup").isTrue();
        } finally {
            NetnsTestBed.run(Duration.ofSeconds(10), "ip", "netns", "delete", stale);
        }
    }
}
