package dev.riscvrelay.relay.ops.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real host's facts, read from a /proc and /sys laid out by the test, and the port tried for real. */
class SystemHostFactsTest {

    @TempDir
    Path root;

    private SystemHostFacts facts() {
        return new SystemHostFacts(root.resolve("proc"), root.resolve("sys"));
    }

    private void write(String file, String text) throws Exception {
        Path path = root.resolve(file);
        Files.createDirectories(path.getParent());
        Files.writeString(path, text);
    }

    @Test
    void sysctlsGroupsAndTheOpenFileLimitAreReadAsTheKernelWritesThem() throws Exception {
        write("proc/sys/net/ipv4/ping_group_range", "0\t2147483647\n");
        write("proc/self/status", "Name:\tjava\nGid:\t100\t101\t100\t100\nGroups:\t27 1000 \n");
        write("proc/self/limits", "Limit                     Soft Limit           Hard Limit           Units     \n"
                + "Max open files            4096                 524288               files     \n");
        SystemHostFacts facts = facts();
        assertThat(facts.sysctl("net.ipv4.ping_group_range")).contains("0\t2147483647");
        assertThat(facts.sysctl("net.core.rmem_max")).isEmpty();
        assertThat(facts.groups()).containsExactly(27L, 101L, 1000L);
        assertThat(facts.openFileLimit()).isEqualTo(4096);
        write("proc/self/limits", "Max open files            unlimited            unlimited            files\n");
        assertThat(facts.openFileLimit()).isEqualTo(-1);
    }

    @Test
    void theDefaultRouteWithTheLowestMetricGivesTheDeviceAndItsMtu() throws Exception {
        String header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
        write("proc/net/route", header
                + "eth0\t0064A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
                + "wlan0\t00000000\t0164A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
                + "eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
        write("sys/eth0/mtu", "1400\n");
        assertThat(facts().defaultRoute()).contains(new HostFacts.Route("eth0", 1400));

        write("proc/net/route", header + "wg0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t1380\t0\t0\n");
        assertThat(facts().defaultRoute()).as("a route's own mtu wins").contains(new HostFacts.Route("wg0", 1380));
        write("proc/net/route", header + "eth0\t0064A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
        assertThat(facts().defaultRoute()).isEqualTo(Optional.empty());
    }

    @Test
    void aPortIsFreeUntilSomethingBindsIt() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        // Held on UDP and TCP both, so no other process's connection sits on the number when it is let go.
        DatagramSocket taken = new DatagramSocket(new InetSocketAddress(loopback, 0));
        int port = taken.getLocalPort();
        java.net.ServerSocket takenTcp = null;
        for (int attempt = 0; takenTcp == null && attempt < 20; attempt++) {
            try {
                takenTcp = new java.net.ServerSocket(port, 1, loopback);
            } catch (java.io.IOException inUse) {
                taken.close();
                taken = new DatagramSocket(new InetSocketAddress(loopback, 0));
                port = taken.getLocalPort();
            }
        }
        assertThat(takenTcp).as("a port free on UDP and TCP").isNotNull();
        try {
            assertThat(new SystemHostFacts().portFree(loopback, port)).isFalse();
        } finally {
            taken.close();
            takenTcp.close();
        }
        assertThat(new SystemHostFacts().portFree(loopback, port)).isTrue();
    }

    @Test
    void nobodyAnsweringHealthIsNoRelay() throws Exception {
        int port;
        try (java.net.ServerSocket closed = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        assertThat(new SystemHostFacts().relayAnswers(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)))
                .isFalse();
    }
}
