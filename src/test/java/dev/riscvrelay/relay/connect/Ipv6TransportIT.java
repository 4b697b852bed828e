package dev.riscvrelay.relay.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.ConnectorProcess;
import dev.riscvrelay.relay.testbed.DhcpClients;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The relay reached over IPv6 across the field bed's 1500-MTU veths (2001:db8:18:X::/64 on the clients' side,
 * 2001:db8:19:X::/64 on the relay's): bound to its IPv6 address, and bound to {@code ::} where IPv4 clients still
 * reach it. {@code relay connect --url https://[ADDR]:4433/} joins a Linux host, which gets a DHCP lease and pings.
 */
class Ipv6TransportIT {

    @Test
    void aRelayBoundToItsIpv6AddressLeasesAndAnswersAHostConnectedOverIpv6() throws Exception {
        NetnsTestBed.requireTools("ip", "ping", "busybox");
        Path work = Files.createTempDirectory("rr-ipv6-transport");
        try (FieldBed field = FieldBed.create()) {
            field.startRelayOnIpv6("ipv6", field.relayIpv6Address());
            assertThat(field.relay().output()).as("printed at start")
                    .contains("Listening on https://[" + field.relayIpv6Address() + "]:" + FieldBed.RELAY_PORT);
            LanHost host = field.addConnectedHost("v6",
                    new ConnectorProcess.RelayEndpoint(field.relayIpv6Url(), field.relay().certificateHash()));
            host.namespace().privateResolvConf();
            host.connector().awaitLine(java.util.regex.Pattern.compile("connected to "
                    + java.util.regex.Pattern.quote(field.relayIpv6Url())), 0, Duration.ofSeconds(10));
            // The path is IPv6 over a 1500-MTU link: 1452-byte UDP payloads, so frames smaller than over IPv4.
            assertThat(host.connector().mtu()).as("20 bytes below the 1408 over IPv4").isEqualTo(1388);

            CommandResult udhcpc = host.exec(Duration.ofSeconds(30), "busybox", "udhcpc", "-i", "eth0", "-n", "-q",
                    "-t", "5", "-s", DhcpClients.writeUdhcpcScript(work).toString());
            assertThat(udhcpc.succeeded()).as(udhcpc.describe()).isTrue();
            assertThat(udhcpc.stdout() + udhcpc.stderr()).contains("obtained from 10.0.2.2");
            CommandResult ping = host.ping("10.0.2.2", 5, 0.2);
            assertThat(ping.succeeded()).as(ping.describe()).isTrue();
            assertThat(ping.stdout()).contains("5 received");
            // The relay's QUIC socket is IPv6 only here: its IPv4 address answers nothing.
            CommandResult sockets = field.relayNamespace().exec("ss", "-u", "-a", "-n");
            assertThat(sockets.stdout()).contains("[" + field.relayIpv6Address() + "]:" + FieldBed.RELAY_PORT);
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aDualStackRelayTakesAnIpv6ConnectorAndAnIpv4ConnectorOnOneLan() throws Exception {
        NetnsTestBed.requireTools("ip", "ping");
        try (FieldBed field = FieldBed.create()) {
            field.startRelayOnIpv6("dual", "::");
            assertThat(field.relay().output()).contains("Listening on https://[::]:" + FieldBed.RELAY_PORT);
            LanHost six = field.addLanHost("six", "10.0.2.40",
                    new ConnectorProcess.RelayEndpoint(field.relayIpv6Url(), field.relay().certificateHash()));
            LanHost four = field.addLanHost("four", "10.0.2.41", LinkProfile.CLEAN);
            four.connector().awaitLine(java.util.regex.Pattern.compile("connected to "
                    + java.util.regex.Pattern.quote("https://" + field.relayAddress() + ":")), 0, Duration.ofSeconds(10));

            // The first ARP exchange across the two connectors may take a retry (Linux waits a second for it).
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (!six.ping("10.0.2.41", 1, 0.2).succeeded() && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            CommandResult sixToFour = six.ping("10.0.2.41", 5, 0.2);
            assertThat(sixToFour.succeeded()).as(sixToFour.describe()).isTrue();
            CommandResult fourToSix = four.ping("10.0.2.40", 5, 0.2);
            assertThat(fourToSix.succeeded()).as(fourToSix.describe()).isTrue();
            CommandResult gateway = six.ping("10.0.2.2", 3, 0.2);
            assertThat(gateway.succeeded()).as(gateway.describe()).isTrue();
        }
    }
}
