package dev.riscvrelay.relay.gateway;

import static dev.riscvrelay.relay.testbed.TcpTransfers.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.testbed.TcpTransfers;
import dev.riscvrelay.relay.testbed.UdpEchoClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * IPv6 to the outside through the real relay's NAT: a Linux host joined by {@code relay connect} configures itself by
 * SLAAC, then reaches the field bed's IPv6 "internet" (a namespace beside the relay's, over a 1500-MTU veth, its host
 * at 2001:db8:1::10; the relay allows 2001:db8:1::/48 and 2001:db8:2::/48 out of the documentation range it denies by
 * default): ping -6 through ICMPv6 ping sockets, a UDP exchange, UDP answers larger than the LAN MTU (IPv6
 * fragments), datagrams and pings the host sends in fragments (reassembled at the gateway), 50 MB over TCP SHA-256
 * exact. A destination the policy denies (the internet's peer address,
 * 2001:db8:ff::10) and one the relay's host has no route to (2001:db8:2::1) are answered at once with ICMPv6
 * destination unreachable, and counted in /metrics.
 */
class Ipv6InternetIT {

    private static final String UNROUTED = "2001:db8:2::1";

    @Test
    void aSlaacHostPingsExchangesUdpAndFetchesFiftyMegabytesOverIpv6() throws Exception {
        NetnsTestBed.requireTools("ip", "ping", "socat", "ss", "curl");
        try (FieldBed field = FieldBed.create()) {
            Namespace internet = field.addInternet6();
            TcpTransfers transfers = field.bed().own(new TcpTransfers(field.bed()));
            field.startRelay("ipv6-nat", "--allow", FieldBed.INTERNET6_PREFIX, "--allow", "2001:db8:2::/48");
            LanHost host = field.addConnectedHost("v6nat", LinkProfile.CLEAN);
            String address = NamespaceLan.awaitGlobalAddress(host.namespace(), Duration.ofSeconds(30));
            assertThat(address).startsWith("fd00:10:0:2:");

            CommandResult ping = host.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2",
                    FieldBed.INTERNET6_HOST);
            assertThat(ping.succeeded()).as(ping.describe()).isTrue();
            assertThat(ping.stdout()).contains("3 received");

            // UDP: one datagram to a socat that answers it with "hello" upper-cased.
            Process echo = field.bed().startInBackground(internet, "socat", "-T", "20",
                    "UDP6-RECVFROM:7007,bind=[" + FieldBed.INTERNET6_HOST + "]", "SYSTEM:sed -u s/hello/HELLO/");
            internet.awaitListening("-lun", "[" + FieldBed.INTERNET6_HOST + "]:7007");
            CommandResult udp = host.exec(Duration.ofSeconds(15), "sh", "-c",
                    "echo hello-over-ipv6 | socat -t 3 - UDP6:[" + FieldBed.INTERNET6_HOST + "]:7007");
            assertThat(udp.stdout().trim()).as(udp.describe()).isEqualTo("HELLO-over-ipv6");
            echo.destroy();

            // UDP answers larger than the LAN MTU (1185) reach the host in IPv6 fragments that its kernel reassembles.
            field.bed().startInBackground(internet, "python3", "-c", """
                    import socket
                    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                    s.bind(("%s", 7009))
                    while True:
                        data, peer = s.recvfrom(100)
                        s.sendto(bytes(i %% 251 for i in range(int(data))), peer)
                    """.formatted(FieldBed.INTERNET6_HOST));
            internet.awaitListening("-lun", "[" + FieldBed.INTERNET6_HOST + "]:7009");
            CommandResult large = host.exec(Duration.ofSeconds(30), "python3", "-c", """
                    import socket
                    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                    s.settimeout(3)
                    s.connect(("%s", 7009))
                    for n in (1200, 4000, 30000):
                        got = -1
                        for attempt in range(3):
                            s.send(b"%%d" %% n)
                            try:
                                data = s.recv(65535)
                            except socket.timeout:
                                continue
                            got = len(data) if data == bytes(i %% 251 for i in range(n)) else -2
                            break
                        print(n, got)
                    """.formatted(FieldBed.INTERNET6_HOST));
            assertThat(large.stdout().trim().split("\n")).as(large.describe())
                    .containsExactly("1200 1200", "4000 4000", "30000 30000");

            // The other way: datagrams and pings larger than the link leave the host in IPv6 fragments, which the
            // gateway puts back together before the NAT sends them whole (and before it answers a ping itself).
            field.bed().startInBackground(internet, "python3", "-c", """
                    import socket
                    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                    s.bind(("%s", 7010))
                    while True:
                        data, peer = s.recvfrom(65535)
                        s.sendto(data, peer)
                    """.formatted(FieldBed.INTERNET6_HOST));
            internet.awaitListening("-lun", "[" + FieldBed.INTERNET6_HOST + "]:7010");
            CommandResult sent = host.exec(Duration.ofSeconds(60),
                    UdpEchoClient.command(FieldBed.INTERNET6_HOST, 7010, 1300, 4000, 30000, 65000));
            assertThat(sent.stdout().trim().split("\n")).as(sent.describe())
                    .containsExactly("1300 1300", "4000 4000", "30000 30000", "65000 65000");
            for (String target : new String[] {FieldBed.INTERNET6_HOST, "fd00:10:0:2::2"}) {
                CommandResult bigPing = host.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "3", "-i", "0.2", "-W",
                        "2", "-s", "3000", target);
                assertThat(bigPing.succeeded()).as(bigPing.describe()).isTrue();
                assertThat(bigPing.stdout()).contains("3 received");
            }

            TcpTransfers.Payload payload = transfers.payload("p50v6", 50 * MIB, 56);
            double mbps = transfers.receive("ipv6 clean", internet, FieldBed.INTERNET6_HOST, 5007, host.namespace(),
                    "[" + FieldBed.INTERNET6_HOST + "]:5007", payload, Duration.ofSeconds(180));
            assertThat(mbps).as("Mbit/s, loose").isGreaterThan(1.0);

            long start = System.nanoTime();
            CommandResult denied = host.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "1", "-W", "5",
                    FieldBed.INTERNET6_PEER);
            assertThat(denied.succeeded()).isFalse();
            assertThat(denied.stdout()).as(denied.describe())
                    .contains("From fd00:10:0:2::2 icmp_seq=1 Destination unreachable: Administratively prohibited");
            CommandResult unrouted = host.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "1", "-W", "5", UNROUTED);
            assertThat(unrouted.succeeded()).isFalse();
            assertThat(unrouted.stdout()).as(unrouted.describe())
                    .contains("From fd00:10:0:2::2 icmp_seq=1 Destination unreachable: No route");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("both answered, not timed out")
                    .isLessThan(Duration.ofSeconds(5));
            CommandResult tcpDenied = host.exec(Duration.ofSeconds(15), "socat", "-u", "/dev/null",
                    "TCP6:[" + FieldBed.INTERNET6_PEER + "]:5008,connect-timeout=5");
            assertThat(tcpDenied.succeeded()).isFalse();
            assertThat(tcpDenied.stderr()).as(tcpDenied.describe()).containsIgnoringCase("permission denied");

            Namespace relayNs = field.relayNamespace();
            assertThat(metric(field, relayNs, "relay_gateway_ipv6_prohibited_total")).isGreaterThanOrEqualTo(2);
            assertThat(metric(field, relayNs, "relay_gateway_ipv6_no_route_total")).isGreaterThanOrEqualTo(1);
            assertThat(metric(field, relayNs, "relay_nat_egress_denied_total")).isGreaterThanOrEqualTo(2);
            assertThat(metric(field, relayNs, "relay_nat_icmp_echo_in_total")).isGreaterThanOrEqualTo(3);
            assertThat(metric(field, relayNs, "relay_nat_udp_datagrams_in_total")).isGreaterThanOrEqualTo(4);
            assertThat(metric(field, relayNs, "relay_nat_udp_datagrams_fragmented_total"))
                    .as("the 4,000, 30,000 and 65,000-byte echoes, and the 1,300-byte one on a LAN of 1185")
                    .isGreaterThanOrEqualTo(6);
            assertThat(metric(field, relayNs, "relay_ip_datagrams_reassembled_total"))
                    .as("3 datagrams of 4,000 bytes or more, 6 pings of 3,000").isGreaterThanOrEqualTo(9);
            assertThat(metric(field, relayNs, "relay_drops_total{reason=\"ip_reassembly_invalid\"}")).isZero();
            assertThat(metric(field, relayNs, "relay_nat_tcp_bytes_to_vm_total")).isGreaterThanOrEqualTo(50L * MIB);
            assertThat(metric(field, relayNs, "relay_drops_total{reason=\"nat_tcp_bad_checksum\"}")).isZero();
            assertThat(metric(field, relayNs, "relay_drops_total{reason=\"nat_bad_packet\"}")).isZero();
        }
    }

    static long metric(FieldBed field, Namespace relayNs, String series) {
        CommandResult scrape = relayNs.exec(Duration.ofSeconds(10), "curl", "-sS", "--fail",
                field.relay().adminUrl("/metrics"));
        assertThat(scrape.succeeded()).as(scrape.describe()).isTrue();
        for (String line : scrape.stdout().split("\n")) {
            if (line.startsWith(series + " ")) {
                return (long) Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no series " + series + " in /metrics");
    }
}
