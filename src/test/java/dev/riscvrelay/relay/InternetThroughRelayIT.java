package dev.riscvrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.DhcpClients;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.testbed.RelayProcess;
import dev.riscvrelay.relay.testbed.UdpEchoClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The internet without privileges, end to end, on the field bed: the real relay runs in its own namespace as an
 * unprivileged user with no capabilities, with {@code net.ipv4.ping_group_range} open as Docker opens it; its NAT's
 * host sockets reach the bed's "internet" namespace (a UDP echo server, a DNS server with a test zone, an HTTP
 * server) over a veth. Two VMs are client namespaces whose eth0 is a TAP bridged by {@code relay connect} running
 * beside it, its QUIC packets crossing the 1500-MTU link to the relay; they configure themselves with real DHCP
 * clients.
 *
 * <pre>
 *   vm1 (udhcpc) --TAP-- relay connect --+   link      relay namespace          internet namespace
 *   vm2 (dhclient) --TAP-- relay connect -+-- br0 ---- relay (nobody) inet0 198.51.100.1 ---- 198.51.100.10
 *                                                      --allow 203.0.113.0/24     203.0.113.10 echo :7, http :80, ping
 *                                                                                 203.0.113.53 dnsmasq (relay.test,
 *                                                                                   UDP and TCP)
 * </pre>
 *
 * The relay allows 203.0.113.0/24 only, so 198.51.100.10 shows the default egress policy at work.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InternetThroughRelayIT {

    private static final String NOBODY = "65534";
    private static final String ECHO_HOST = "203.0.113.10";
    private static final String RESOLVER = "203.0.113.53";
    private static final String DENIED_HOST = "198.51.100.10";
    private static final int DOWNLOAD_BYTES = 4 * 1024 * 1024;
    /** A TXT record of twelve 250-byte strings: about 3 KB, too big for one UDP answer on the 1185-byte LAN. */
    private static final List<String> BIG_TXT = java.util.stream.IntStream.range(0, 12)
            .mapToObj(i -> Character.toString('a' + i).repeat(250)).toList();

    /** A UDP echo server (RFC 862) on port 7; "size:N" is answered with N bytes (i mod 251 each). */
    private static final String ECHO_SERVER = """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind(("203.0.113.10", 7))
            while True:
                data, peer = s.recvfrom(65535)
                if data.startswith(b"size:"):
                    data = bytes(i % 251 for i in range(int(data[5:])))
                s.sendto(data, peer)
            """;

    /** Asks the echo server for a datagram of each size given and prints, per size, the length that came back. */
    private static final String LARGE_REPLY_CLIENT = """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(3)
            s.connect(("203.0.113.10", 7))
            for n in map(int, sys.argv[1:]):
                got = -1
                for attempt in range(3):
                    s.send(b"size:%d" % n)
                    try:
                        data = s.recv(65535)
                    except socket.timeout:
                        continue
                    got = len(data) if data == bytes(i % 251 for i in range(n)) else -2
                    break
                print(n, got)
            """;

    /**
     * Sends COUNT datagrams tagged TAG from local port 40000 to the echo server, at most 16 unanswered at a time, and
     * prints: distinct answers of its own, answers carrying another tag, datagrams sent.
     */
    private static final String ECHO_CLIENT = """
            import select, socket, sys, time
            tag, count = sys.argv[1].encode(), int(sys.argv[2])
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", 40000))
            s.connect(("203.0.113.10", 7))
            got, foreign, inflight, sent = set(), 0, {}, 0
            deadline = time.time() + 90
            while len(got) < count and time.time() < deadline:
                while sent < count and len(inflight) < 16:
                    s.send(tag + b":%d" % sent)
                    inflight[sent] = time.time()
                    sent += 1
                if select.select([s], [], [], 0.5)[0]:
                    owner, _, seq = s.recv(2048).partition(b":")
                    if owner != tag:
                        foreign += 1
                        continue
                    got.add(int(seq))
                    inflight.pop(int(seq), None)
                else:
                    now = time.time()
                    for seq in [q for q, t in inflight.items() if now - t > 2]:
                        inflight.pop(seq)
            print(len(got), foreign, sent)
            """;

    /**
     * Puts malformed frames on eth0 through a packet socket, each for one parser: a DHCP message without the magic
     * cookie, a DNS query cut inside its header, UDP and ICMP to the outside with bad checksums, an IPv4 header with
     * a bad checksum. Argument: the gateway's MAC.
     */
    private static final String MALFORMED_SENDER = """
            import socket, struct, sys
            def csum(b):
                if len(b) % 2: b += b"\\0"
                s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
                while s >> 16: s = (s & 0xffff) + (s >> 16)
                return ~s & 0xffff
            def ip(src, dst, proto, payload, good=True):
                h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                                socket.inet_aton(src), socket.inet_aton(dst))
                c = csum(h) if good else (csum(h) ^ 0x5555)
                return h[:10] + struct.pack("!H", c) + h[12:] + payload
            def udp(sport, dport, data, cs=0):
                return struct.pack("!HHHH", sport, dport, 8 + len(data), cs) + data
            gw = bytes.fromhex(sys.argv[1].replace(":", ""))
            me = bytes.fromhex(open("/sys/class/net/eth0/address").read().strip().replace(":", ""))
            eth = lambda dst, payload: dst + me + b"\\x08\\x00" + payload
            frames = [
                # DHCP DISCOVER-sized BOOTP message whose options do not start with 99.130.83.99
                eth(b"\\xff" * 6, ip("0.0.0.0", "255.255.255.255", 17,
                    udp(68, 67, bytes([1, 1, 6, 0]) + b"\\0" * 232 + b"\\xde\\xad\\xbe\\xef" + b"\\xff"))),
                # DNS query of 5 bytes: shorter than a DNS header
                eth(gw, ip("10.0.2.15", "10.0.2.3", 17, udp(40001, 53, b"\\x12\\x34\\x01\\x00\\x00"))),
                # UDP to the outside with a wrong checksum
                eth(gw, ip("10.0.2.15", "203.0.113.10", 17, udp(40002, 7, b"bad checksum", 0x1234))),
                # ICMP echo request to the outside with a wrong checksum
                eth(gw, ip("10.0.2.15", "203.0.113.10", 1, struct.pack("!BBHHH", 8, 0, 0xbeef, 7, 1) + b"x" * 8)),
                # IPv4 header checksum wrong
                eth(gw, ip("10.0.2.15", "203.0.113.10", 17, udp(40003, 7, b"bad ip header"), good=False)),
            ]
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind(("eth0", 0))
            for f in frames:
                s.send(f)
            print(len(frames))
            """;

    private FieldBed field;
    private NetnsTestBed bed;
    private Namespace relayNs;
    private Namespace internet;
    private RelayProcess relay;
    private Namespace vm1;
    private Namespace vm2;
    private Path work;

    @BeforeAll
    void buildTheWorld() throws Exception {
        NetnsTestBed.requireTools("ip", "ping", "busybox", "dhclient", "dnsmasq", "dig", "python3", "curl", "setpriv",
                "sha256sum");
        work = Files.createTempDirectory("rr-internet-it");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        field = FieldBed.create();
        bed = field.bed();
        relayNs = field.relayNamespace();
        // The bed opens net.ipv4.ping_group_range in the relay's namespace, as Docker does in every container.
        internet = field.addInternet();

        Path site = Files.createDirectories(work.resolve("site"));
        byte[] download = new byte[DOWNLOAD_BYTES];
        new java.util.Random(42).nextBytes(download);
        Files.write(site.resolve("download.bin"), download);
        bed.startInBackground(internet, "python3", "-c", ECHO_SERVER);
        bed.startInBackground(internet, "python3", "-m", "http.server", "--bind", ECHO_HOST, "--directory",
                site.toString(), "80");
        bed.startInBackground(internet, "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--pid-file",
                "--port=53", "--listen-address=" + RESOLVER, "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--address=/relay.test/" + ECHO_HOST, "--txt-record=big.relay.test," + String.join(",", BIG_TXT));
        internet.awaitListening("-lun", ECHO_HOST + ":7");
        internet.awaitListening("-ltn", ECHO_HOST + ":80");
        internet.awaitListening("-lun", RESOLVER + ":53");
        internet.awaitListening("-ltn", RESOLVER + ":53");

        // Unprivileged, as in the Docker image (the bed runs it from a copy of the jar every user may read).
        relay = field.startRelay("internet", List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"),
                "--dns", RESOLVER, "--allow", "203.0.113.0/24");
        assertThat(relay.output()).noneMatch(line -> line.contains("ICMP NAT disabled"));

        vm1 = field.addConnectedHost("vm1", LinkProfile.CLEAN).namespace().privateResolvConf();
        vm2 = field.addConnectedHost("vm2", LinkProfile.CLEAN).namespace().privateResolvConf();
    }

    @AfterAll
    void tearDown() throws Exception {
        try {
            if (vm2 != null && Files.exists(work.resolve("dhclient.pid"))) {
                // dhclient -1 stays in the background to renew; -x stops it without releasing the lease.
                vm2.exec(Duration.ofSeconds(30), "dhclient", "-x", "-pf", work.resolve("dhclient.pid").toString(),
                        "-lf", work.resolve("dhclient.leases").toString(), "eth0");
            }
            if (field != null) {
                field.close();
            }
        } finally {
            if (work != null) {
                try (var files = Files.walk(work)) {
                    for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(file);
                    }
                }
            }
        }
    }

    @Test
    @Order(1)
    void theRelayRunsUnprivilegedWithoutCapabilities() throws Exception {
        String status = Files.readString(Path.of("/proc", Long.toString(relay.pid()), "status"));
        assertThat(status).containsPattern("(?m)^Uid:\\s+" + NOBODY + "\\s+" + NOBODY)
                .containsPattern("(?m)^CapEff:\\s+0+$").containsPattern("(?m)^CapBnd:\\s+0+$");
    }

    /** Before DHCP lowers it to the browser-safe 1185: each connector sized its TAP for the 1500-byte path. */
    @Test
    @Order(1)
    void theVmTapsAreSizedForTheValidatedPath() {
        assertThat(FieldBed.mtuOf(vm1, "eth0")).isEqualTo(1408);
        assertThat(FieldBed.mtuOf(vm2, "eth0")).isEqualTo(1408);
        assertThat(FieldBed.mtuOf(vm1, "up0")).isEqualTo(1500);
    }

    @Test
    @Order(2)
    void udhcpcAndDhclientGetLeasesWithRouterDnsAndMtu() throws Exception {
        Path script = DhcpClients.writeUdhcpcScript(work);
        CommandResult udhcpc = vm1.exec(Duration.ofSeconds(30), "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-t",
                "5", "-s", script.toString());
        assertThat(udhcpc.succeeded()).as(udhcpc.describe()).isTrue();
        assertThat(udhcpc.stdout() + udhcpc.stderr()).contains("obtained from 10.0.2.2");
        assertThat(vm1.exec("ip", "-4", "-o", "addr", "show", "dev", "eth0").orThrow().stdout())
                .containsPattern("inet 10\\.0\\.2\\.\\d+/24");
        assertThat(vm1.exec("ip", "route").orThrow().stdout()).contains("default via 10.0.2.2 dev eth0");
        assertThat(vm1.exec("ip", "-o", "link", "show", "dev", "eth0").orThrow().stdout()).contains("mtu 1185");
        assertThat(vm1.exec("cat", "/etc/resolv.conf").orThrow().stdout()).contains("nameserver 10.0.2.3");

        Path leases = work.resolve("dhclient.leases");
        CommandResult dhclient = vm2.exec(Duration.ofSeconds(60), "dhclient", "-1", "-v", "-pf",
                work.resolve("dhclient.pid").toString(), "-lf", leases.toString(), "eth0");
        assertThat(dhclient.succeeded()).as(dhclient.describe()).isTrue();
        assertThat(dhclient.stderr()).containsPattern("DHCPACK of 10\\.0\\.2\\.\\d+ from 10\\.0\\.2\\.2");
        assertThat(vm2.exec("ip", "route").orThrow().stdout()).contains("default via 10.0.2.2");
        assertThat(vm2.exec("cat", "/etc/resolv.conf").orThrow().stdout()).contains("nameserver 10.0.2.3");
        // Debian's dhclient-script leaves the MTU alone; the lease shows the relay offered it.
        assertThat(Files.readString(leases)).contains("option interface-mtu 1185;");
        vm2.exec("ip", "link", "set", "dev", "eth0", "mtu", "1185").orThrow();
        assertThat(address(vm1)).isNotEqualTo(address(vm2));
    }

    @Test
    @Order(3)
    void digResolvesATestZoneNameThroughTheForwarder() {
        CommandResult dig = vm1.exec(Duration.ofSeconds(20), "dig", "+time=3", "+tries=2", "+short", "@10.0.2.3",
                "www.relay.test", "A");
        assertThat(dig.succeeded()).as(dig.describe()).isTrue();
        assertThat(dig.stdout().trim()).isEqualTo(ECHO_HOST);
    }

    @Test
    @Order(4)
    void digOverTcpToTheDnsAddressReachesTheResolver() {
        long connections = metric("relay_nat_tcp_service_connections_total");
        CommandResult dig = vm1.exec(Duration.ofSeconds(20), "dig", "+tcp", "+time=3", "+tries=2", "+short",
                "@10.0.2.3", "www.relay.test", "A");
        assertThat(dig.succeeded()).as(dig.describe()).isTrue();
        assertThat(dig.stdout().trim()).isEqualTo(ECHO_HOST);
        assertThat(metric("relay_nat_tcp_service_connections_total")).isEqualTo(connections + 1);
        assertThat(metric("relay_dns_tcp_segments_total")).isPositive();
    }

    @Test
    @Order(5)
    void aTruncatedUdpAnswerIsRetriedOverTcpAndArrivesWhole() {
        long connections = metric("relay_nat_tcp_service_connections_total");
        // Plain dig: UDP first, and on TC it retries the same question over TCP to the same server.
        CommandResult dig = vm1.exec(Duration.ofSeconds(20), "dig", "+time=3", "+tries=1", "@10.0.2.3",
                "big.relay.test", "TXT");
        assertThat(dig.succeeded()).as(dig.describe()).isTrue();
        assertThat(dig.stdout()).contains(";; Truncated, retrying in TCP mode.").contains("status: NOERROR")
                .containsPattern(";; SERVER: 10\\.0\\.2\\.3#53\\(10\\.0\\.2\\.3\\) \\(TCP\\)");
        Matcher record = Pattern.compile("(?m)^big\\.relay\\.test\\.\\s+\\d+\\s+IN\\s+TXT\\s+(.*)$")
                .matcher(dig.stdout());
        assertThat(record.find()).as(dig.describe()).isTrue();
        assertThat(record.group(1).trim()).isEqualTo("\"" + String.join("\" \"", BIG_TXT) + "\"");
        assertThat(metric("relay_nat_tcp_service_connections_total")).isEqualTo(connections + 1);
    }

    @Test
    @Order(6)
    void twentyPingsToTheOutsideGetTwentyReplies() {
        CommandResult ping = vm1.exec(Duration.ofSeconds(30), "ping", "-c", "20", "-i", "0.2", "-W", "2", ECHO_HOST);
        assertThat(ping.stdout()).as(ping.describe()).contains("20 packets transmitted, 20 received");
        Matcher rtt = Pattern.compile("rtt min/avg/max/mdev = ([0-9./]+) ms").matcher(ping.stdout());
        System.out.println("[facts] ping VM -> 203.0.113.10 through the relay, min/avg/max/mdev ms: "
                + (rtt.find() ? rtt.group(1) : "?"));
    }

    @Test
    @Order(7)
    void tenThousandEchoDatagramsFromTwoVmsOnOneSourcePortComeBackToTheRightVm() throws Exception {
        CompletableFuture<CommandResult> first = CompletableFuture.supplyAsync(
                () -> vm1.exec(Duration.ofSeconds(120), "python3", "-c", ECHO_CLIENT, "vm1", "5000"));
        CompletableFuture<CommandResult> second = CompletableFuture.supplyAsync(
                () -> vm2.exec(Duration.ofSeconds(120), "python3", "-c", ECHO_CLIENT, "vm2", "5000"));
        for (CommandResult result : List.of(first.get(), second.get())) {
            assertThat(result.succeeded()).as(result.describe()).isTrue();
            assertThat(result.stdout().trim()).as("own answers, foreign answers, sent").isEqualTo("5000 0 5000");
        }
    }

    @Test
    @Order(7)
    void udpRepliesLargerThanTheLanMtuReachTheVmWholeInFragments() throws Exception {
        // The LAN's MTU is 1185 (1,160 bytes of IP payload per fragment): 1,380 bytes of UDP data cross in 2
        // fragments, 4,000 in 4, 20,000 in 18 and 60,000 in 52; the VM's kernel reassembles them.
        CommandResult client = vm1.exec(Duration.ofSeconds(60), "python3", "-c", LARGE_REPLY_CLIENT, "1380", "4000",
                "20000", "60000");
        assertThat(client.succeeded()).as(client.describe()).isTrue();
        assertThat(client.stdout().trim().split("\n")).as("size asked, bytes that arrived intact (-1 none)")
                .containsExactly("1380 1380", "4000 4000", "20000 20000", "60000 60000");
        // Nothing else in this class sends the VMs a datagram larger than a frame.
        assertThat(metric("relay_nat_udp_datagrams_fragmented_total")).isEqualTo(4);
        assertThat(metric("relay_nat_udp_fragments_in_total")).isEqualTo(2 + 4 + 18 + 52);
        assertThat(metric("relay_drops_total{reason=\"nat_reply_too_large\"}")).isZero();
    }

    @Test
    @Order(8)
    void datagramsAndPingsLargerThanTheLanMtuCrossInFragmentsBothWays() throws Exception {
        // vm1's eth0 has DHCP's 1185, so its kernel sends these in fragments; the relay puts each back together
        // before its NAT or its gateway sees it, and the answers come back in fragments the VM reassembles.
        CommandResult out = vm1.exec(Duration.ofSeconds(30), "ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "3000",
                ECHO_HOST);
        assertThat(out.stdout()).as(out.describe()).contains("3 packets transmitted, 3 received");
        CommandResult gateway = vm1.exec(Duration.ofSeconds(30), "ping", "-c", "3", "-i", "0.2", "-W", "2", "-s",
                "3000", "10.0.2.2");
        assertThat(gateway.stdout()).as(gateway.describe()).contains("3 packets transmitted, 3 received");
        // 1,200 bytes: a QUIC client's first datagram; 1,452: WireGuard's at its default MTU (1420 and 32 of its own).
        CommandResult client = vm1.exec(Duration.ofSeconds(60),
                UdpEchoClient.command(ECHO_HOST, 7, 1200, 1452, 20000, 65000));
        assertThat(client.succeeded()).as(client.describe()).isTrue();
        assertThat(client.stdout().trim().split("\n")).as("size sent, bytes that came back intact (-1 none)")
                .containsExactly("1200 1200", "1452 1452", "20000 20000", "65000 65000");
        // Six echo requests and four datagrams (a datagram the client had to send again counts again).
        assertThat(metric("relay_ip_datagrams_reassembled_total")).as("at least once each")
                .isGreaterThanOrEqualTo(3 + 3 + 4);
        assertThat(metric("relay_nat_icmp_echo_fragmented_total")).isEqualTo(3);
        assertThat(metric("relay_drops_total{reason=\"ip_reassembly_invalid\"}")).isZero();
        assertThat(metric("relay_drops_total{reason=\"ip_reassembly_timeout\"}")).isZero();
    }

    @Test
    @Order(8)
    void tcpDownloadThroughTheRelayIsExact() throws Exception {
        String expected = sha256(work.resolve("site").resolve("download.bin"));
        CommandResult curl = vm1.exec(Duration.ofSeconds(120), "sh", "-c",
                "curl -sS --fail --max-time 100 http://" + ECHO_HOST + "/download.bin | sha256sum");
        assertThat(curl.succeeded()).as(curl.describe()).isTrue();
        assertThat(curl.stdout()).startsWith(expected);
    }

    @Test
    @Order(9)
    void theDefaultEgressPolicyDeniesWhatWasNotAllowed() throws Exception {
        long before = metric("relay_nat_egress_denied_total");
        CommandResult ping = vm1.exec(Duration.ofSeconds(20), "ping", "-c", "2", "-i", "0.5", "-W", "2",
                DENIED_HOST);
        assertThat(ping.succeeded()).isFalse();
        // iputils names ICMP destination unreachable code 13 (communication administratively prohibited) so.
        assertThat(ping.stdout()).as(ping.describe()).contains("From 10.0.2.2").contains("Packet filtered");
        assertThat(metric("relay_nat_egress_denied_total")).isGreaterThanOrEqualTo(before + 2);
    }

    @Test
    @Order(10)
    void malformedPacketsFromAVmAreDroppedAndCountedAndTheRelayKeepsServing() throws Exception {
        String[] reasons = {"dhcp_malformed", "dns_malformed", "nat_bad_packet", "bad_checksum"};
        long[] before = new long[reasons.length];
        for (int i = 0; i < reasons.length; i++) {
            before[i] = metric("relay_drops_total{reason=\"" + reasons[i] + "\"}");
        }
        CommandResult sent = vm1.exec(Duration.ofSeconds(20), "python3", "-c", MALFORMED_SENDER,
                "52:54:00:12:34:56");
        assertThat(sent.stdout().trim()).as(sent.describe()).isEqualTo("5");
        // The relay keeps serving: a ping through it works, and by then it has handled the frames sent before.
        CommandResult ping = vm1.exec(Duration.ofSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2", ECHO_HOST);
        assertThat(ping.stdout()).as(ping.describe()).contains("3 received");
        assertThat(metric("relay_drops_total{reason=\"dhcp_malformed\"}")).isEqualTo(before[0] + 1);
        assertThat(metric("relay_drops_total{reason=\"dns_malformed\"}")).isEqualTo(before[1] + 1);
        assertThat(metric("relay_drops_total{reason=\"nat_bad_packet\"}")).isEqualTo(before[2] + 2);
        assertThat(metric("relay_drops_total{reason=\"bad_checksum\"}")).isEqualTo(before[3] + 1);
        assertThat(relay.isAlive()).isTrue();
    }

    @Test
    @Order(11)
    void aStaticAddressInsideThePoolIsNotLeasedToTheNextDhcpClient() throws Exception {
        // The relay alone leases the lowest free address next: put a static host there first.
        List<String> leased = List.of(address(vm1), address(vm2));
        int next = 15;
        while (leased.contains("10.0.2." + next)) {
            next++;
        }
        String fixedAddress = "10.0.2." + next;
        LanHost fixed = field.addLanHost("fixed", fixedAddress, LinkProfile.CLEAN);
        // Its ARP for its router shows the gateway who holds the address.
        assertThat(fixed.ping("10.0.2.2", 1, 0.2).succeeded()).isTrue();
        long passedOverBefore = metric("relay_dhcp_passed_over_in_use_total");

        Namespace vm3 = field.addConnectedHost("vm3", LinkProfile.CLEAN).namespace().privateResolvConf();
        CommandResult udhcpc = vm3.exec(Duration.ofSeconds(30), "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-t",
                "5", "-s", DhcpClients.writeUdhcpcScript(work).toString());
        assertThat(udhcpc.succeeded()).as(udhcpc.describe()).isTrue();
        assertThat(address(vm3)).as("the static host's %s passed over", fixedAddress).isNotEqualTo(fixedAddress)
                .isNotIn(leased);
        assertThat(metric("relay_dhcp_passed_over_in_use_total")).isGreaterThan(passedOverBefore);
        CommandResult ping = vm3.exec(Duration.ofSeconds(20), "ping", "-c", "2", "-i", "0.2", "-W", "2", fixedAddress);
        assertThat(ping.succeeded()).as("both keep their addresses: %s", ping).isTrue();
    }

    /** One sample of the relay's Prometheus endpoint, read with curl inside the relay's namespace. */
    private long metric(String series) {
        CommandResult scrape = relayNs.exec(Duration.ofSeconds(10), "curl", "-sS", "--fail",
                relay.adminUrl("/metrics"));
        assertThat(scrape.succeeded()).as(scrape.describe()).isTrue();
        for (String line : scrape.stdout().split("\n")) {
            if (line.startsWith(series + " ")) {
                return (long) Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no series " + series + " in /metrics");
    }

    private static String address(Namespace vm) {
        Matcher m = Pattern.compile("inet (10\\.0\\.2\\.\\d+)/24")
                .matcher(vm.exec("ip", "-4", "-o", "addr", "show", "dev", "eth0").orThrow().stdout());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    private static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
