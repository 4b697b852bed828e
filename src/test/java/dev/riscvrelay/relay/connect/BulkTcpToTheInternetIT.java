package dev.riscvrelay.relay.connect;

import static dev.riscvrelay.relay.testbed.TcpTransfers.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.TcpTransfers;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Bulk TCP from a host on the relay's LAN, behind an impaired link, through the relay's NAT to a server in the field
 * bed's "internet" namespace (203.0.113.10, behind the relay's namespace; the relay allows 203.0.113.0/24). The
 * host's TCP ends at the relay's NAT, so only the host-to-relay leg is impaired. SHA-256 exact within a time bound;
 * rates as {@code [facts]} lines, loose lower bounds. Measured here: about 9 Mbit/s behind the internet profile, 1-1.7
 * Mbit/s behind the lossy one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BulkTcpToTheInternetIT {

    private FieldBed field;
    private Namespace internet;
    private TcpTransfers transfers;

    @BeforeAll
    void build() throws Exception {
        NetnsTestBed.requireTools("ip", "socat", "ss");
        field = FieldBed.create();
        transfers = field.bed().own(new TcpTransfers(field.bed())); // its files go with the bed
        internet = field.addInternet();
        field.startRelay("bulk-inet", "--allow", "203.0.113.0/24");
    }

    @AfterAll
    void tearDown() {
        if (field != null) {
            field.close();
        }
    }

    @Test
    void fiftyMegabytesFromAHostBehindTheInternetProfileToAnInternetServer() throws Exception {
        LanHost host = field.addLanHost("netup", "10.0.2.23", LinkProfile.INTERNET);
        TcpTransfers.Payload payload = transfers.payload("p50", 50 * MIB, 50);
        double mbps = transfers.send("internet profile", host.namespace(), internet, FieldBed.INTERNET_HOST, 5005,
                payload, Duration.ofSeconds(120));
        assertThat(mbps).as("Mbit/s, loose").isGreaterThan(1.0);
        assertThat(field.linkProxy(LinkProfile.INTERNET).up().oversize()).isZero();
    }

    @Test
    void fourMegabytesFromAHostBehindTheLossyProfileToAnInternetServer() throws Exception {
        LanHost host = field.addLanHost("lossup", "10.0.2.33", LinkProfile.LOSSY);
        TcpTransfers.Payload payload = transfers.payload("p4", 4 * MIB, 4);
        double mbps = transfers.send("lossy profile", host.namespace(), internet, FieldBed.INTERNET_HOST, 5006, payload,
                Duration.ofSeconds(60));
        assertThat(mbps).as("Mbit/s, loose").isGreaterThan(0.3);
    }
}
