package dev.riscvrelay.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.connect.ConnectorConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code relay connect}: its help, and one clear line with exit code 2 for every usage mistake. */
class ConnectCommandTest {

    private static final String HASH = "ab".repeat(32);

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return RelayCommand.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    private void assertUsageError(int exitCode, String expectedText) {
        assertThat(exitCode).isEqualTo(2);
        assertThat(err.toString().lines().toList()).as("stderr").hasSize(1);
        assertThat(err.toString()).contains(expectedText).contains("relay connect --help")
                .doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void theRelaysHelpListsConnect() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("connect");
    }

    @Test
    void helpShowsBothLocalEndsAndTheMtuRule() {
        assertThat(run("connect", "--help")).isZero();
        assertThat(out.toString()).contains("--url", "--cert-hash", "--tap", "--tap-netns", "--qemu-dgram",
                "--qemu-remote", "--mtu", "minus the 14-byte Ethernet header");
    }

    @Test
    void needsALocalEnd() {
        assertUsageError(run("connect", "--url", "https://127.0.0.1:4433/"), "Missing required argument");
    }

    @Test
    void tapAndQemuExcludeEachOther() {
        assertUsageError(run("connect", "--url", "https://127.0.0.1:4433/", "--tap", "rr0", "--qemu-dgram",
                "127.0.0.1:1", "--qemu-remote", "127.0.0.1:2"), "mutually exclusive");
    }

    @Test
    void urlMustBeHttps() {
        assertUsageError(run("connect", "--url", "http://127.0.0.1:4433/", "--tap", "rr0"),
                "--url wants https://HOST:PORT[/path]");
    }

    @Test
    void anIpv6RelayUrlParses() {
        ConnectCommand command = new ConnectCommand(new PrintWriter(out, true));
        new picocli.CommandLine(command).parseArgs("--url", "https://[2001:db8::1]:4433/", "--tap", "rr0");
        java.net.URI url = command.toConfig().relay();
        assertThat(url.getHost()).isEqualTo("[2001:db8::1]");
        assertThat(url.getPort()).isEqualTo(4433);
        assertThat(java.net.InetAddress.ofLiteral(url.getHost().substring(1, url.getHost().length() - 1)))
                .isEqualTo(java.net.InetAddress.ofLiteral("2001:db8::1"));
    }

    @Test
    void anUnbracketedIpv6RelayUrlIsRefused() {
        assertUsageError(run("connect", "--url", "https://2001:db8::1:4433/", "--tap", "rr0"), "--url");
    }

    @Test
    void hashMustBe64HexDigits() {
        assertUsageError(run("connect", "--url", "https://127.0.0.1:4433/", "--cert-hash", "abc", "--tap", "rr0"),
                "--cert-hash: a SHA-256 certificate hash is 64 hex digits");
    }

    @Test
    void qemuAddressesAreHostAndPort() {
        assertUsageError(run("connect", "--url", "https://127.0.0.1:4433/", "--cert-hash", HASH, "--qemu-dgram",
                "127.0.0.1", "--qemu-remote", "127.0.0.1:2"), "--qemu-dgram wants HOST:PORT");
    }

    @Test
    void tapNetnsOnlyWithTap() {
        assertUsageError(run("connect", "--url", "https://127.0.0.1:4433/", "--tap-netns", "/run/netns/x",
                "--qemu-dgram", "127.0.0.1:1", "--qemu-remote", "127.0.0.1:2"), "--tap-netns goes with --tap");
    }

    /** A name Linux refuses is refused at once, not when the first session opens the TAP. */
    @ParameterizedTest
    @ValueSource(strings = {"", "sixteen-chars-xx", "a/b", "a:b", "a b", ".", "..", "tap\u00e9"})
    @Timeout(10) // without the check, the connector would go on trying to reach the relay
    void aTapNameLinuxRefusesIsAUsageError(String name) {
        assertUsageError(run("connect", "--url", "https://127.0.0.1:4433/", "--tap", name), "--tap: a TAP name is");
    }

    @Test
    void theLongestTapNameLinuxTakesIsAccepted() {
        assertThat(new ConnectorConfig.Tap("fifteen-chars-x", null).name()).hasSize(15);
    }

    /** A namespace file that is not there is refused at once, not after the relay answered. */
    @Test
    @Timeout(10)
    void aMissingTapNetnsIsAUsageError(@TempDir Path dir) {
        assertUsageError(run("connect", "--url", "https://127.0.0.1:4433/", "--tap", "rr0", "--tap-netns",
                dir.resolve("nowhere").toString()), "--tap-netns: no such network namespace file: ");
    }

    @Test
    void congestionControlIsBbrUnlessToldOtherwise() {
        ConnectCommand command = new ConnectCommand(new PrintWriter(out, true));
        new picocli.CommandLine(command).parseArgs("--url", "https://127.0.0.1:4433/", "--tap", "rr0");
        assertThat(command.toConfig().client().congestionControl())
                .isEqualTo(io.netty.handler.codec.quic.QuicCongestionControlAlgorithm.BBR);
        command = new ConnectCommand(new PrintWriter(out, true));
        new picocli.CommandLine(command).parseArgs("--url", "https://127.0.0.1:4433/", "--tap", "rr0",
                "--congestion-control", "reno");
        assertThat(command.toConfig().client().congestionControl())
                .isEqualTo(io.netty.handler.codec.quic.QuicCongestionControlAlgorithm.RENO);
        assertUsageError(run("connect", "--url", "https://127.0.0.1:4433/", "--tap", "rr0", "--congestion-control",
                "vegas"), "--congestion-control");
    }

    @Test
    void linkRecoveryIsOnUnlessToldOtherwise() {
        ConnectCommand command = new ConnectCommand(new PrintWriter(out, true));
        new picocli.CommandLine(command).parseArgs("--url", "https://127.0.0.1:4433/", "--tap", "rr0");
        assertThat(command.toConfig().client().linkRecovery()).isTrue();
        command = new ConnectCommand(new PrintWriter(out, true));
        new picocli.CommandLine(command).parseArgs("--url", "https://127.0.0.1:4433/", "--tap", "rr0",
                "--no-link-recovery");
        assertThat(command.toConfig().client().linkRecovery()).isFalse();
    }

    @Test
    void tapQueueFollowsThePathUnlessToldOtherwise() {
        ConnectCommand command = new ConnectCommand(new PrintWriter(out, true));
        new picocli.CommandLine(command).parseArgs("--url", "https://127.0.0.1:4433/", "--tap", "rr0");
        ConnectorConfig.Tap adaptive = (ConnectorConfig.Tap) command.toConfig().local();
        assertThat(adaptive.adaptiveTxQueue()).isTrue();
        command = new ConnectCommand(new PrintWriter(out, true));
        new picocli.CommandLine(command).parseArgs("--url", "https://127.0.0.1:4433/", "--tap", "rr0",
                "--tap-queue", "1000");
        ConnectorConfig.Tap fixed = (ConnectorConfig.Tap) command.toConfig().local();
        assertThat(fixed.txQueueFrames()).isEqualTo(1000);
        assertThat(fixed.adaptiveTxQueue()).isFalse();
        assertUsageError(run("connect", "--url", "https://127.0.0.1:4433/", "--tap", "rr0", "--tap-queue", "0"),
                "--tap-queue: give 1..10000 frames, not 0");
    }

    @Test
    void tapQueueOnlyWithTap() {
        assertUsageError(run("connect", "--url", "https://127.0.0.1:4433/", "--tap-queue", "500",
                "--qemu-dgram", "127.0.0.1:1", "--qemu-remote", "127.0.0.1:2"), "--tap-queue goes with --tap");
    }

    @Test
    void mtuInRange() {
        assertUsageError(run("connect", "--url", "https://127.0.0.1:4433/", "--tap", "rr0", "--mtu", "20"),
                "MTU must be in 68..65521");
    }

    @Test
    void theRelaysOfAClusterAreTriedInTurnEachWithItsHash() {
        String other = "cd".repeat(32);
        ConnectCommand command = new ConnectCommand(new PrintWriter(out, true));
        new picocli.CommandLine(command).parseArgs("--url", "https://198.51.100.1:4433/", "--url",
                "https://198.51.100.2:4433/", "--cert-hash", HASH, "--cert-hash", other, "--tap", "rr0");
        var relays = command.toConfig().relays();
        assertThat(relays).extracting(relay -> relay.url().getHost()).containsExactly("198.51.100.1", "198.51.100.2");
        assertThat(relays).extracting(relay -> relay.client().certificateSha256Hex()).containsExactly(HASH, other);

        command = new ConnectCommand(new PrintWriter(out, true));
        new picocli.CommandLine(command).parseArgs("--url", "https://198.51.100.1:4433/", "--url",
                "https://198.51.100.2:4433/", "--cert-hash", HASH, "--tap", "rr0");
        assertThat(command.toConfig().relays()).extracting(relay -> relay.client().certificateSha256Hex())
                .containsExactly(HASH, HASH);

        assertUsageError(run("connect", "--url", "https://198.51.100.1:4433/", "--url", "https://198.51.100.2:4433/",
                "--url", "https://198.51.100.3:4433/", "--cert-hash", HASH, "--cert-hash", other, "--tap", "rr0"),
                "give one for every --url, or one per --url (3), not 2");
    }
}
