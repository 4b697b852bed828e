package dev.riscvrelay.relay.connect;

import static dev.riscvrelay.relay.testbed.TcpTransfers.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.bench.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.LinkProxyProcess;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.TcpTransfers;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Bulk TCP between two hosts on the relay's LAN whose connectors reach the relay through the field bed's impaired
 * links (internet: 20 ms RTT, 1% loss each way, 100 Mbit/s; lossy: 60 ms RTT, 3% loss, 50 Mbit/s). Host to host
 * crosses the impaired link twice (up from the sender, down to the receiver). QUIC datagrams are not retransmitted,
 * so the hosts' TCP sees the link's loss and recovers it itself; every transfer must arrive SHA-256 exact within its
 * time bound. Rates are printed as {@code [facts]} lines; the lower bounds are loose (a shared 2-core machine runs
 * the relay, four connectors, two impaired links and both TCP ends). Measured here: 4-10 Mbit/s behind the internet
 * profile, 1.1-1.3 Mbit/s behind the lossy one, as TCP's loss response predicts (rate ~ MSS / RTT * 1.22 /
 * sqrt(loss)); the sizes keep the class near two minutes.
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
        LanHost a = field.addLanHost("neta", "10.0.2.21", LinkProfile.INTERNET);
        LanHost b = field.addLanHost("netb", "10.0.2.22", LinkProfile.INTERNET);
        TcpTransfers.Payload payload = transfers.payload("p10", 10 * MIB, 10);
        double ab = transfers.send("internet profile", a.namespace(), b.namespace(), b.address(), 5001, payload,
                Duration.ofSeconds(60));
        double ba = transfers.send("internet profile", b.namespace(), a.namespace(), a.address(), 5002, payload,
                Duration.ofSeconds(60));
        assertThat(Math.min(ab, ba)).as("Mbit/s, loose: TCP over 1% loss each way on a busy machine")
                .isGreaterThan(1.0);
        LinkProxyProcess link = field.linkProxy(LinkProfile.INTERNET);
        link.awaitFreshCounters();
        LanThroughRelayIT.fact("internet profile link after the host transfers: up %s, down %s", link.up(),
                link.down());
        assertThat(link.up().lost()).as("the link did lose datagrams").isPositive();
        assertThat(link.down().lost()).isPositive();
        assertThat(link.up().oversize()).as("no packet above 1472 bytes").isZero();
        assertThat(link.down().oversize()).isZero();
    }

    @Test
    void twoMegabytesBothWaysBetweenTwoHostsBehindTheLossyProfile() throws Exception {
        LanHost a = field.addLanHost("lossa", "10.0.2.31", LinkProfile.LOSSY);
        LanHost b = field.addLanHost("lossb", "10.0.2.32", LinkProfile.LOSSY);
        TcpTransfers.Payload payload = transfers.payload("p2", 2 * MIB, 2);
        double ab = transfers.send("lossy profile", a.namespace(), b.namespace(), b.address(), 5003, payload,
                Duration.ofSeconds(60));
        double ba = transfers.send("lossy profile", b.namespace(), a.namespace(), a.address(), 5004, payload,
                Duration.ofSeconds(60));
        assertThat(Math.min(ab, ba)).as("Mbit/s, loose: TCP over 3% loss each way, 60 ms RTT").isGreaterThan(0.3);
        LinkProxyProcess link = field.linkProxy(LinkProfile.LOSSY);
        link.awaitFreshCounters();
        LanThroughRelayIT.fact("lossy profile link after the host transfers: up %s, down %s", link.up(),
                link.down());
        assertThat(link.up().lost()).isPositive();
        assertThat(link.down().lost()).isPositive();
        assertThat(link.up().oversize()).isZero();
        assertThat(link.down().oversize()).isZero();
    }
}
