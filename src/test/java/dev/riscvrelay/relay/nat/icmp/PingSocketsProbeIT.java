package dev.riscvrelay.relay.nat.icmp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.NatConfig;
import dev.riscvrelay.relay.nat.NetworkNamespaces;
import dev.riscvrelay.relay.nat.TestFrames;
import dev.riscvrelay.relay.nat.VmFrames;
import dev.riscvrelay.relay.wire.Ipv4Address;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ping-socket probe against the real kernel rule, in two namespaces this test creates: one with
 * {@code net.ipv4.ping_group_range} open to every group and one with it closed ({@code "1 0"}). The probe runs in a
 * fresh JVM, as root and as the unprivileged user nobody (uid/gid 65534), inside each namespace. The host's own
 * sysctl is never touched.
 */
class PingSocketsProbeIT {

    private static final String NOBODY = "65534";

    private static String open;
    private static String closed;

    @BeforeAll
    static void createNamespaces() {
        String suffix = NetworkNamespaces.randomSuffix();
        open = "rrnat-" + suffix + "-po";
        closed = "rrnat-" + suffix + "-pc";
        NetworkNamespaces.run("ip", "netns", "add", open);
        NetworkNamespaces.run("ip", "netns", "add", closed);
        NetworkNamespaces.run("ip", "netns", "exec", open, "sysctl", "-q", "-w",
                "net.ipv4.ping_group_range=0 2147483647");
        NetworkNamespaces.run("ip", "netns", "exec", closed, "sysctl", "-q", "-w", "net.ipv4.ping_group_range=1 0");
    }

    @AfterAll
    static void deleteNamespaces() {
        NetworkNamespaces.runQuietly("ip", "netns", "del", open);
        NetworkNamespaces.runQuietly("ip", "netns", "del", closed);
    }

    /** Runs the probe's main in a new JVM inside {@code namespace}, optionally as nobody; returns exit and output. */
    private static ProbeRun probe(String namespace, boolean asNobody) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        String classes = Path.of(PingSockets.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .toString();
        List<String> command = new java.util.ArrayList<>(List.of("ip", "netns", "exec", namespace));
        if (asNobody) {
            command.addAll(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"));
        }
        command.addAll(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", classes,
                PingSockets.class.getName()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("probe JVM did not finish: " + command);
        }
        return new ProbeRun(process.exitValue(),
                new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    }

    private record ProbeRun(int exit, String output) {
    }

    @Test
    void rootMayOpenPingSocketsWhereTheRangeIsOpen() throws Exception {
        ProbeRun run = probe(open, false);
        assertThat(run.output()).isEqualTo("allowed");
        assertThat(run.exit()).isZero();
    }

    @Test
    void nobodyMayOpenPingSocketsWhereTheRangeIsOpen() throws Exception {
        ProbeRun run = probe(open, true);
        assertThat(run.output()).isEqualTo("allowed");
    }

    @Test
    void nobodyIsRefusedWhereTheRangeIsClosedAndTheMessageNamesTheSysctl() throws Exception {
        ProbeRun run = probe(closed, true);
        assertThat(run.exit()).isEqualTo(3);
        assertThat(run.output()).startsWith("denied: ").contains("net.ipv4.ping_group_range");
    }

    @Test
    void evenRootIsRefusedWhereTheRangeIsClosed() throws Exception {
        // No capability bypasses the range: a root relay still needs it opened (or uses no ICMP NAT).
        ProbeRun run = probe(closed, false);
        assertThat(run.exit()).isEqualTo(3);
        assertThat(run.output()).contains("net.ipv4.ping_group_range");
    }

    @Test
    void icmpNatIsDisabledAndCountsEchoRequestsAsDroppedWhenTheRangeIsClosed() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            EventLoop loop = group.next();
            Counters counters = new Counters();
            List<ByteBuf> emitted = new java.util.ArrayList<>();
            NatConfig config = NatConfig.defaults();
            IcmpNat icmp = loop.submit(() -> {
                NetworkNamespaces.enterOnThisThread(closed);
                return new IcmpNat(config, new VmFrames(PooledByteBufAllocator.DEFAULT, NetworkConfig.defaults(), config),
                        emitted::add,
                        counters, NanoClock.SYSTEM, loop);
            }).get(5, TimeUnit.SECONDS);
            assertThat(icmp.enabled()).isFalse();
            assertThat(icmp.disabledReason()).contains("net.ipv4.ping_group_range");
            loop.submit(() -> {
                ByteBuf request = TestFrames.echoRequest(0x0252_5400_000AL, Ipv4Address.parse("10.0.2.15"),
                        Ipv4Address.parse("203.0.113.10"), 7, 1, new byte[16]);
                try {
                    TestFrames.Parsed parsed = new TestFrames.Parsed(request);
                    icmp.onIcmp(parsed.ethernet, parsed.ip);
                } finally {
                    request.release();
                }
            }).get(5, TimeUnit.SECONDS);
            assertThat(counters.get(Counter.DROP_NAT_ICMP_DISABLED)).isEqualTo(1);
            assertThat(emitted).isEmpty();
            assertThat(icmp.flowCount()).isZero();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
