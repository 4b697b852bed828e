package dev.riscvrelay.relay.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.ImpairedLink;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.ConnectorProcess;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.TcpTransfers;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A path that shrinks under a running transfer (a tunnel comes up and its ICMP errors are filtered: a PMTU black
 * hole). Host a reaches the relay through a user-space link on the field bed that first carries 1472-byte
 * datagrams, then only 1400: a's connector sees most of its full-size packets lost, closes the session and
 * reconnects, path MTU discovery validates the smaller size, and the host's TCP hears "fragmentation needed" from
 * the connector for the segments that no longer fit, so the transfer completes byte for byte.
 */
class PathBlackHoleIT {

    private static final Pattern VALIDATED = Pattern.compile("QUIC packets of (\\d+) bytes validated on the path");
    private static final int LINK_PORT = 4499;

    @Test
    void aPathThatShrinksUnderATransferIsRediscoveredAndTheHostIsToldTheNewSize() throws Exception {
        NetnsTestBed.requireTools("ip", "socat", "sha256sum");
        try (FieldBed field = FieldBed.create()) {
            field.startRelay("blackhole");
            // The link runs in this JVM, in the root namespace, on the bed's root address: a's packets cross the
            // client veth, the link namespace's bridge, this proxy, and the link again to the relay.
            try (ImpairedLink link = ImpairedLink.start(new InetSocketAddress(field.rootAddress(), LINK_PORT),
                    new InetSocketAddress(field.relayAddress(), FieldBed.RELAY_PORT), LinkProfile.CLEAN, 1)) {
                ConnectorProcess.RelayEndpoint throughLink = new ConnectorProcess.RelayEndpoint(
                        "https://" + field.rootAddress() + ":" + LINK_PORT + "/", field.relay().certificateHash());
                LanHost a = field.addLanHost("bha", "10.0.2.31", throughLink);
                LanHost b = field.addLanHost("bhb", "10.0.2.32", LinkProfile.CLEAN);
                Matcher first = a.connector().awaitLine(VALIDATED, 0, Duration.ofSeconds(30));
                assertThat(Integer.parseInt(first.group(1))).isEqualTo(1472);
                assertThat(FieldBed.mtuOf(a.namespace(), "eth0")).isEqualTo(1408);
                b.connector().awaitLine(VALIDATED, 0, Duration.ofSeconds(30));
                int linesBefore = a.connector().lineCount();

                link.maxDatagram(1400);

                try (TcpTransfers transfers = new TcpTransfers(field.bed())) {
                    // Sha-exact and whole, or the test fails; the path shrinks under it from the first segment on.
                    transfers.send("a path that shrank from 1472 to 1400 bytes", a.namespace(), b.namespace(),
                            b.address(), 5031, transfers.payload("p20", 20 * TcpTransfers.MIB, 31),
                            Duration.ofSeconds(90));
                }

                a.connector().awaitLine(Pattern.compile("path MTU black hole"), linesBefore, Duration.ofSeconds(5));
                Matcher again = a.connector().awaitLine(VALIDATED, linesBefore, Duration.ofSeconds(5));
                int rediscovered = Integer.parseInt(again.group(1));
                System.out.println("[facts] after the black hole the path validated " + rediscovered + "-byte packets;"
                        + " link dropped " + link.upCounters().oversize() + " up and "
                        + link.downCounters().oversize() + " down as too large");
                assertThat(rediscovered).isBetween(1200, 1400);
                assertThat(link.upCounters().oversize()).as("full-size packets vanished on the link").isPositive();
                a.connector().awaitLine(Pattern.compile("answered with ICMP fragmentation needed"), linesBefore,
                        Duration.ofSeconds(10));
            }
        }
    }
}
