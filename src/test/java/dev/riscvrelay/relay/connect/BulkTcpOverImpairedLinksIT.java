package dev.riscvrelay.relay.connect;

import static dev.riscvrelay.relay.testbed.TcpTransfers.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.LinkProxyProcess;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.TcpTransfers;
import dev.riscvrelay.relay.transport.tap.TapDevice;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Bulk TCP between two hosts on the relay's LAN whose connectors reach the relay through the field bed's impaired
 * links (internet: 20 ms RTT, 1% loss each way, 100 Mbit/s; lossy: 60 ms RTT, 3% loss, 50 Mbit/s). Host to host
 * crosses the impaired link twice (up from the sender, down to the receiver). The connectors and the relay run link
 * recovery (a lost frame is asked for and sent once more, frames delivered in order), so the hosts' TCP sees little
 * of the link's random loss; every transfer must arrive SHA-256 exact within its time bound, and the relay must have
 * repaired frames. Rates and the relay's recovery counters are printed as {@code [facts]} lines; the lower bounds
 * are loose (a shared 2-core machine runs the relay, four connectors, two impaired links and both TCP ends).
 * Measured here behind the internet profile: 33-47 Mbit/s for 10 MiB and 32-55 for 50 MiB with link recovery,
 * 7-19 Mbit/s for 10 MiB without (TCP's own loss response bounds that: rate ~ MSS / RTT * 1.22 / sqrt(loss)).
 * The sizes keep the class near a minute.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BulkTcpOverImpairedLinksIT {

    private FieldBed field;
    private TcpTransfers transfers;

    @BeforeAll
    void build() throws Exception {
        NetnsTestBed.requireTools("ip", "socat", "ss");
        field = FieldBed.create();
        transfers = field.bed().own(new TcpTransfers(field.bed())); // its files go with the bed
        field.startRelay("bulk");
    }

    @AfterAll
    void tearDown() {
        if (field != null) {
            field.close();
        }
    }

    @Test
    void tenMegabytesBothWaysBetweenTwoHostsBehindTheInternetProfile() throws Exception {
        double slower = bothWays(LinkProfile.INTERNET, "net", "10.0.2.21", "10.0.2.22", 10, 5001);
        assertThat(slower).as("Mbit/s, loose: TCP over 1% loss each way on a busy machine").isGreaterThan(1.0);
    }

    @Test
    void twoMegabytesBothWaysBetweenTwoHostsBehindTheLossyProfile() throws Exception {
        double slower = bothWays(LinkProfile.LOSSY, "loss", "10.0.2.31", "10.0.2.32", 2, 5003);
        assertThat(slower).as("Mbit/s, loose: TCP over 3% loss each way, 60 ms RTT").isGreaterThan(0.3);
    }

    /**
     * Two hosts behind {@code profile} send each other {@code mebibytes} (sha-exact, bounded); the link must have
     * lost datagrams each way and carried none above 1472 bytes. Returns the slower direction's Mbit/s.
     */
    private double bothWays(LinkProfile profile, String role, String addressA, String addressB, int mebibytes,
            int port) throws Exception {
        String name = profile.cliName() + " profile";
        LanHost a = field.addLanHost(role + "a", addressA, profile);
        LanHost b = field.addLanHost(role + "b", addressB, profile);
        TcpTransfers.Payload payload = transfers.payload("p" + mebibytes, mebibytes * MIB, mebibytes);
        double ab = transfers.send(name, a.namespace(), b.namespace(), b.address(), port, payload,
                Duration.ofSeconds(60));
        double ba = transfers.send(name, b.namespace(), a.namespace(), a.address(), port + 1, payload,
                Duration.ofSeconds(60));
        for (LanHost host : List.of(a, b)) {
            // The path is long: each connector gave its TAP the queue a CUBIC host's bursts need there.
            java.util.regex.Matcher change = host.connector().awaitLine(java.util.regex.Pattern.compile(
                    "^tap eth0 queue now " + TapDevice.LONG_PATH_TX_QUEUE_FRAMES + " frames: the path to the relay"
                    + " is long \\(shortest round trip (\\d+\\.\\d) ms\\)$"), 0, Duration.ofSeconds(5));
            assertThat(Double.parseDouble(change.group(1))).as("the round trip that made it long").isGreaterThan(10);
            assertThat(FieldBed.txQueueOf(host.namespace(), "eth0")).isEqualTo(TapDevice.LONG_PATH_TX_QUEUE_FRAMES);
        }
        LinkProxyProcess link = field.linkProxy(profile);
        link.awaitFreshCounters();
        LanThroughRelayIT.fact("%s link after the host transfers: up %s, down %s", name, link.up(), link.down());
        assertThat(link.up().lost()).as("the link did lose datagrams").isPositive();
        assertThat(link.down().lost()).isPositive();
        assertThat(link.up().oversize()).as("no packet above 1472 bytes").isZero();
        assertThat(link.down().oversize()).isZero();
        CommandResult scrape = field.relayNamespace().exec(Duration.ofSeconds(10), "curl", "-sS", "--fail",
                field.adminUrl("/metrics"));
        assertThat(scrape.succeeded()).as(scrape.describe()).isTrue();
        String recovery = scrape.stdout().lines().filter(l -> l.startsWith("relay_recovery")
                || l.contains("recovery_")).collect(java.util.stream.Collectors.joining("; "));
        LanThroughRelayIT.fact("%s: the relay's link recovery after the host transfers: %s", name, recovery);
        assertThat(recovery).as("the relay repaired lost frames").containsPattern("relay_recovery_repaired_total [1-9]");
        assertThat(recovery).as("a long lossy path: parity went, and rebuilt lost frames")
                .containsPattern("relay_recovery_parity_sent_total [1-9]")
                .containsPattern("relay_recovery_parity_repaired_total [1-9]");
        return Math.min(ab, ba);
    }
}
