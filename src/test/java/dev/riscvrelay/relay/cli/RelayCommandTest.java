package dev.riscvrelay.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.tls.PemFiles;
import dev.riscvrelay.relay.tls.RelayCertificate;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import org.junit.jupiter.api.io.TempDir;

/** Every operator mistake ends in one clear line on stderr and a non-zero exit code, never a stack trace. */
class RelayCommandTest {

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return RelayCommand.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    private void assertOneLineError(int exitCode, int expectedExit, String expectedText) {
        assertThat(exitCode).isEqualTo(expectedExit);
        assertThat(err.toString().lines().toList()).as("stderr").hasSize(1);
        assertThat(err.toString()).contains(expectedText).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void helpShowsTheSeedsFlagsWithDefaults() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString())
                .contains("--bind", "default: 0.0.0.0", "--port", "default: 4433", "--cert-pem", "--key-pem",
                        "--version");
    }

    @Test
    void versionNamesTheProduct() {
        assertThat(run("--version")).isZero();
        assertThat(out.toString()).startsWith("riscv-relay ");
    }

    @Test
    void quicCongestionControlIsBbrUnlessToldOtherwise() {
        RelayCommand command = new RelayCommand(new PrintWriter(out, true), new PrintWriter(err, true));
        new CommandLine(command).parseArgs();
        assertThat(command.toConfig().congestionControl()).isEqualTo(QuicCongestionControlAlgorithm.BBR);
        command = new RelayCommand(new PrintWriter(out, true), new PrintWriter(err, true));
        new CommandLine(command).parseArgs("--congestion-control", "cubic");
        assertThat(command.toConfig().congestionControl()).isEqualTo(QuicCongestionControlAlgorithm.CUBIC);
        assertThat(run("--congestion-control", "vegas")).isEqualTo(2);
        assertThat(err.toString()).contains("--congestion-control", "bbr, cubic, reno").doesNotContain("\tat ");
    }

    @Test
    void workersDefaultToTheCoresButOneAndAreBounded() {
        assertThat(dev.riscvrelay.relay.RelayConfig.defaultWorkers(1)).isEqualTo(1);
        assertThat(dev.riscvrelay.relay.RelayConfig.defaultWorkers(2)).isEqualTo(1);
        assertThat(dev.riscvrelay.relay.RelayConfig.defaultWorkers(3)).isEqualTo(2);
        assertThat(dev.riscvrelay.relay.RelayConfig.defaultWorkers(16)).isEqualTo(15);
        assertThat(dev.riscvrelay.relay.RelayConfig.defaultWorkers(1000)).isEqualTo(256);
        RelayCommand command = new RelayCommand(new PrintWriter(out, true), new PrintWriter(err, true));
        new CommandLine(command).parseArgs();
        assertThat(command.toConfig().workers())
                .isEqualTo(Math.max(1, Runtime.getRuntime().availableProcessors() - 1));
        assertThat(run("--workers", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--workers must be between 1 and 256").doesNotContain("\tat ");
    }

    @Test
    void theEgressLineReflectsAllowAndDeny() {
        RelayCommand command = new RelayCommand(new PrintWriter(out, true), new PrintWriter(err, true));
        new CommandLine(command).parseArgs("--allow", "203.0.113.0/24", "--deny", "8.8.8.0/24");
        String line = RelayCommand.egressLine(command.toConfig().egress());
        assertThat(line).startsWith("Egress: VMs reach the public internet; denied: 0.0.0.0/8, 10.0.0.0/8,")
                .contains("this host's own addresses", "; allowed by --allow: 203.0.113.0/24",
                        "; denied by --deny: 8.8.8.0/24")
                .doesNotContain("203.0.113.0/24,")
                .endsWith(" (change with --allow/--deny)");
    }

    @Test
    void allowAndDenyTakeIpv6PrefixesToo() {
        RelayCommand command = new RelayCommand(new PrintWriter(out, true), new PrintWriter(err, true));
        new CommandLine(command).parseArgs("--allow", "2001:db8::/32", "--allow", "203.0.113.0/24", "--deny",
                "2001:db8:bad::/48");
        var egress = command.toConfig().egress();
        assertThat(egress.allow()).containsExactly(dev.riscvrelay.relay.nat.Cidr.parse("203.0.113.0/24"));
        assertThat(egress.allowIpv6()).containsExactly(dev.riscvrelay.relay.nat.Ipv6Cidr.parse("2001:db8::/32"));
        assertThat(egress.denyIpv6()).containsExactly(dev.riscvrelay.relay.nat.Ipv6Cidr.parse("2001:db8:bad::/48"));
        assertThat(RelayCommand.egressLine(egress)).as("the IPv4 line names IPv4 rules only")
                .doesNotContain("2001:db8");
        assertOneLineError(run("--allow", "2001:db8::/200"), 2, "--allow wants an IPv6 prefix like 2001:db8::/32");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--deny", "example.com"), 2, "--deny wants an IPv4 prefix like 203.0.113.0/24 or"
                + " an IPv6 one like 2001:db8::/32, not 'example.com'");
    }

    @Test
    void unknownFlag() {
        assertOneLineError(run("--frobnicate"), 2, "Unknown option: '--frobnicate'");
    }

    @Test
    void portOutOfRange() {
        assertOneLineError(run("--port", "70000"), 2, "--port must be between 0 and 65535");
    }

    @Test
    void portNotANumber() {
        assertOneLineError(run("--port", "http"), 2, "'http' is not an int");
    }

    @Test
    void bindTakesIpv6LiteralsBareOrInBrackets() throws Exception {
        for (String[] bindAndAddress : new String[][] {{"::", "::"}, {"2001:db8::1", "2001:db8::1"},
                {"[2001:db8::1]", "2001:db8::1"}, {"[::]", "::"}, {"198.51.100.7", "198.51.100.7"}}) {
            RelayCommand command = new RelayCommand(new PrintWriter(out, true), new PrintWriter(err, true));
            new CommandLine(command).parseArgs("--bind", bindAndAddress[0]);
            assertThat(command.toConfig().bind()).as(bindAndAddress[0])
                    .isEqualTo(InetAddress.ofLiteral(bindAndAddress[1]));
        }
    }

    @Test
    void bindRefusesScopedAndBrokenIpv6() {
        assertOneLineError(run("--bind", "fe80::1%eth0"), 2, "--bind wants an IP address, not 'fe80::1%eth0'");
    }

    @Test
    void bindRefusesBrokenIpv6() {
        assertOneLineError(run("--bind", "2001:db8::zz"), 2, "--bind wants an IP address, not '2001:db8::zz'");
    }

    @Test
    void listeningUrlsBracketIpv6Hosts() {
        assertThat(RelayCommand.hostForUrl("::")).isEqualTo("[::]");
        assertThat(RelayCommand.hostForUrl("2001:db8::1")).isEqualTo("[2001:db8::1]");
        assertThat(RelayCommand.hostForUrl("[2001:db8::1]")).isEqualTo("[2001:db8::1]");
        assertThat(RelayCommand.hostForUrl("0.0.0.0")).isEqualTo("0.0.0.0");
    }

    @Test
    void bindNotAnAddress() {
        assertOneLineError(run("--bind", "example.invalid"), 2, "--bind wants an IP address");
    }

    @Test
    void certWithoutKey() throws Exception {
        Path cert = PemFiles.writeChain(dir.resolve("cert.pem"), RelayCertificate.selfSignedForLocalhost());
        assertOneLineError(run("--cert-pem", cert.toString()), 2, "--cert-pem and --key-pem go together");
    }

    @Test
    void unreadableCertificate() throws Exception {
        Path key = PemFiles.writeKey(dir.resolve("key.pem"), RelayCertificate.selfSignedForLocalhost());
        Path missing = dir.resolve("missing.pem");
        assertOneLineError(run("--bind", "127.0.0.1", "--port", "0", "--cert-pem", missing.toString(),
                "--key-pem", key.toString()), 1, "cannot read certificate " + missing + ": no such file");
    }

    @Test
    void garbageCertificate() throws Exception {
        Path key = PemFiles.writeKey(dir.resolve("key.pem"), RelayCertificate.selfSignedForLocalhost());
        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "-----BEGIN CERTIFICATE-----\nnope\n");
        assertOneLineError(run("--bind", "127.0.0.1", "--port", "0", "--cert-pem", garbage.toString(),
                "--key-pem", key.toString()), 1, garbage.toString());
    }

    @Test
    void keyOfAnotherCertificate() throws Exception {
        Path cert = PemFiles.writeChain(dir.resolve("cert.pem"), RelayCertificate.selfSignedForLocalhost());
        Path key = PemFiles.writeKey(dir.resolve("key.pem"), RelayCertificate.selfSignedForLocalhost());
        assertOneLineError(run("--bind", "127.0.0.1", "--port", "0", "--cert-pem", cert.toString(),
                "--key-pem", key.toString()), 1, "does not belong to the certificate");
    }

    @Test
    void portInUse() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int port = taken.getLocalPort();
            assertOneLineError(run("--bind", "127.0.0.1", "--port", Integer.toString(port)), 1,
                    "cannot listen on udp 127.0.0.1:" + port + ": address already in use");
        }
    }

    @Test
    void forwardPortInUse() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            // No WebSocket listener: with --port 0 it would take the UDP port's number over TCP, which may be taken.
            assertOneLineError(run("--bind", "127.0.0.1", "--port", "0", "--websocket", "off", "--forward",
                    "tcp:127.0.0.1:" + port + "=10.0.2.15:22"), 1,
                    "cannot open forward tcp:127.0.0.1:" + port + "=default/10.0.2.15:22: tcp 127.0.0.1:" + port);
        }
    }

    @Test
    void forwardNotASpec() {
        assertOneLineError(run("--forward", "tcp:8022=10.0.2.15"), 2,
                "--forward: expected tcp|udp:[ADDR:]PORT=[NETWORK/]VMADDR:PORT, got 'tcp:8022=10.0.2.15'");
    }

    @Test
    void allowNotAPrefix() {
        assertOneLineError(run("--allow", "203.0.113.0/33"), 2, "--allow wants an IPv4 prefix like 203.0.113.0/24");
    }

    @Test
    void denyNotAPrefix() {
        assertOneLineError(run("--deny", "example.invalid"), 2, "--deny wants an IPv4 prefix");
    }

    @Test
    void dnsNotAnAddress() {
        assertOneLineError(run("--dns", "resolver.invalid:53"), 2, "--dns wants ADDR or ADDR:PORT");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--dns", "127.0.0.1:99999"), 2, "--dns wants ADDR or ADDR:PORT");
    }

    @Test
    void mtuOutOfRange() {
        assertOneLineError(run("--mtu", "1500"), 2, "--mtu must be between 576 and 1433");
    }

    @Test
    void helpListsTheAccessOptions() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("--token-file", "--max-networks", "default: 16", "--session-frame-rate",
                "default: 200000", "--session-byte-rate", "250000000", "--macs-per-session", "default: 4",
                "--max-sessions-per-ip", "default: 64");
    }

    @Test
    void tokenFileMissingOrMalformed() throws Exception {
        assertOneLineError(run("--token-file", dir.resolve("none").toString()), 2, "cannot be read");
        err.getBuffer().setLength(0);
        java.nio.file.Path bad = java.nio.file.Files.writeString(dir.resolve("tokens"), "lab\n");
        assertOneLineError(run("--token-file", bad.toString()), 2, "line 1");
    }

    @Test
    void accessLimitsMustBePositive() {
        assertOneLineError(run("--max-networks", "0"), 2, "--max-networks must be positive");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--session-frame-rate", "0"), 2, "--session-frame-rate must be");
    }

    @Test
    void claimLimitsComeFromTheirFlagsAndMustBeSane() {
        RelayCommand command = new RelayCommand(new PrintWriter(out, true), new PrintWriter(err, true));
        new CommandLine(command).parseArgs("--network-idle", "30", "--network-creations-per-ip", "2",
                "--lease-grace", "5", "--max-leases-per-ip", "8");
        var claims = command.toConfig().access().claims();
        assertThat(claims.networkIdle()).hasSeconds(30);
        assertThat(claims.networkCreationsPerMinute()).isEqualTo(2);
        assertThat(claims.leaseGrace()).hasSeconds(5);
        assertThat(claims.leasesPerAddress()).isEqualTo(8);
        assertOneLineError(run("--max-leases-per-ip", "0"), 2, "--max-leases-per-ip must be positive");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--network-idle", "-1"), 2, "--network-idle and --lease-grace must not be negative");
    }

    @Test
    void pageRelaysAreHttpsUrlsInTheirOrder() {
        RelayCommand command = new RelayCommand(new PrintWriter(out, true), new PrintWriter(err, true));
        new CommandLine(command).parseArgs("--page-relays", "https://relay-b.example:4433, https://198.51.100.7:4433/");
        assertThat(command.toConfig().web().pageRelays()).containsExactly(
                java.net.URI.create("https://relay-b.example:4433/"), java.net.URI.create("https://198.51.100.7:4433/"));
        command = new RelayCommand(new PrintWriter(out, true), new PrintWriter(err, true));
        new CommandLine(command).parseArgs();
        assertThat(command.toConfig().web().pageRelays()).isEmpty();
        assertOneLineError(run("--page-relays", "http://relay-b.example:4433/"), 2,
                "--page-relays wants https://HOST:PORT URLs, comma-separated, not 'http://relay-b.example:4433/'");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--page-relays", "https://a.example:4433/,"), 2, "not ''");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--page-relays", "https://a.example:4433/?token=x"), 2, "--page-relays wants");
    }

    @Test
    void aSubnetMovesTheGatewayDnsAndPoolAndIsPrinted() {
        RelayCommand command = new RelayCommand(new PrintWriter(out, true), new PrintWriter(err, true));
        new CommandLine(command).parseArgs("--subnet", "10.0.0.0/16");
        assertThat(RelayCommand.lanLine(command.toConfig().network())).isEqualTo(
                "LAN 10.0.0.0/16: gateway 10.0.0.2, DNS 10.0.0.3, leases 10.0.0.15..10.0.255.254 (65520), MTU 1185;"
                        + " IPv6 fd00:10:0:2::/64: gateway fd00:10:0:2::2 (SLAAC)");
        assertOneLineError(run("--subnet", "10.0.0.0/28"), 2, "8..27");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--subnet", "10.0.2.7/24"), 2, "host bits set; did you mean 10.0.2.0/24?");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--subnet", "10.0.0.0"), 2, "--subnet wants a prefix like 10.0.0.0/16");
    }

    @Test
    void anIpv6PrefixMovesTheGatewaysIpv6AddressesAndIsPrinted() {
        RelayCommand command = new RelayCommand(new PrintWriter(out, true), new PrintWriter(err, true));
        new CommandLine(command).parseArgs("--ipv6-prefix", "2001:DB8:1:2::/64");
        NetworkConfig network = command.toConfig().network();
        assertThat(network.ipv6Prefix()).isEqualTo(0x2001_0db8_0001_0002L);
        assertThat(RelayCommand.lanLine(network)).endsWith("IPv6 2001:db8:1:2::/64: gateway 2001:db8:1:2::2 (SLAAC)");
        assertThat(network.network()).as("the IPv4 side is unchanged").isEqualTo(NetworkConfig.DEFAULT_NETWORK);
        assertOneLineError(run("--ipv6-prefix", "fd00::/48"), 2, "--ipv6-prefix wants a /64 like fd00:10:0:2::/64");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--ipv6-prefix", "fd00::1/64"), 2, "host bits set; did you mean fd00::/64?");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--ipv6-prefix", "10.0.2.0/64"), 2, "not an IPv6 address");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--ipv6-prefix", "fe80::/64"), 2, "outside fe80::/10");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--ipv6-prefix", "ff02::/64"), 2, "unicast /64");
    }

    @Test
    void helpListsTheGatewayOptions() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("--mtu", "default: 1185", "--dns", "--allow", "--deny");
    }

    @Test
    void helpListsTheOperationsOptionsButNotTheTestingOnes() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("--admin", "default: 127.0.0.1:9433", "--state-dir", "--pcap",
                "--log-format", "default: text").doesNotContain("--cert-validity", "--summary-interval");
    }

    @Test
    void adminNotAnAddress() {
        assertOneLineError(run("--admin", "localhost:9433"), 2, "--admin wants ADDR:PORT");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--admin", "127.0.0.1"), 2, "--admin wants ADDR:PORT");
    }

    @Test
    void adminPortInUse() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            assertOneLineError(run("--bind", "127.0.0.1", "--port", "0", "--admin", "127.0.0.1:" + port), 1,
                    "cannot listen on tcp 127.0.0.1:" + port + " for --admin");
        }
    }

    @Test
    void logFormatUnknown() {
        assertOneLineError(run("--log-format", "xml"), 2, "--log-format is 'text' or 'json'");
    }

    @Test
    void certificateValidityBeyondWhatBrowsersAccept() {
        assertOneLineError(run("--bind", "127.0.0.1", "--port", "0", "--cert-validity", "15d"), 2,
                "--cert-validity must be between 5s and 14d");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--bind", "127.0.0.1", "--port", "0", "--cert-validity", "soon"), 2,
                "--cert-validity wants a duration like 10s");
        assertThat(RelayCommand.certificateValidity("10s")).hasSeconds(10);
        assertThat(RelayCommand.certificateValidity("14d")).hasDays(14);
    }

    @Test
    void clusterFlagsWithoutAClusterOrWithUnreadableFilesAreOneLineErrors() {
        assertOneLineError(run("--relay-id", "a"), 2, "--cluster-credentials, --cluster-ca and --relay-id need --cluster");
    }

    @Test
    void anUnreadableClusterCaIsAOneLineError() {
        assertOneLineError(run("--cluster", "nats://127.0.0.1:4222", "--cluster-ca", dir.resolve("none.pem").toString()),
                2, "--cluster-ca: cannot read");
    }

    @Test
    void aClusterCaWithoutCertificatesIsAOneLineError() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.pem"), "not a certificate\n");
        assertOneLineError(run("--cluster", "nats://127.0.0.1:4222", "--cluster-ca", empty.toString()), 2,
                "--cluster-ca: ");
    }
}
