package dev.riscvrelay.relay.ops.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Each host check with its condition present and absent, on a host the test describes. */
class HostChecksTest {

    private final FakeHost host = new FakeHost();

    @Test
    void pingSocketsAreFineWhenTheRangeHoldsOneOfTheGroups() {
        host.sysctls.put("net.ipv4.ping_group_range", "100\t200");
        host.groups = Set.of(5L, 150L);
        assertThat(new PingGroupCheck().run(host).severity()).isEqualTo(Severity.OK);
    }

    @Test
    void pingSocketsWarnWhenTheRangeHoldsNoneOfTheGroupsAndSayTheSysctl() {
        host.sysctls.put("net.ipv4.ping_group_range", "1\t0"); // the kernel's default: nobody
        Finding finding = new PingGroupCheck().run(host);
        assertThat(finding.severity()).isEqualTo(Severity.WARN);
        assertThat(finding.what()).contains("\"1 0\"", "[1000]");
        assertThat(finding.fix()).contains("sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"");

        host.sysctls.remove("net.ipv4.ping_group_range");
        assertThat(new PingGroupCheck().run(host).severity()).isEqualTo(Severity.WARN);
    }

    @Test
    void udpBuffersAreFineWhenBothLimitsGrantWhatTheRelayAsks() {
        Finding finding = new UdpBufferCheck(4 << 20).run(host);
        assertThat(finding.severity()).isEqualTo(Severity.OK);
        assertThat(finding.fix()).isEmpty();
    }

    @Test
    void udpBuffersWarnForEachLimitBelowWhatTheRelayAsks() {
        host.sysctls.put("net.core.rmem_max", "212992"); // Debian's default
        Finding finding = new UdpBufferCheck(4 << 20).run(host);
        assertThat(finding.severity()).isEqualTo(Severity.WARN);
        assertThat(finding.what()).contains("net.core.rmem_max is 212992").doesNotContain("wmem_max is");
        assertThat(finding.fix()).isEqualTo("sysctl -w net.core.rmem_max=4194304 (keep it in /etc/sysctl.d/)");

        host.sysctls.put("net.core.wmem_max", "1000");
        assertThat(new UdpBufferCheck(4 << 20).run(host).fix()).contains("rmem_max=4194304", "wmem_max=4194304");
    }

    @Test
    void udpOffloadIsFineWithBothAndWarnsWithoutEither() {
        assertThat(new UdpOffloadCheck().run(host).severity()).isEqualTo(Severity.OK);
        host.gro = false;
        Finding noGro = new UdpOffloadCheck().run(host);
        assertThat(noGro.severity()).isEqualTo(Severity.WARN);
        assertThat(noGro.what()).contains("UDP GRO is not available");
        host.gso = false;
        assertThat(new UdpOffloadCheck().run(host).what()).contains("GSO and GRO are not available");
    }

    @Test
    void openFilesAreFineWhenTheLimitHoldsSessionsAndNatSockets() {
        host.openFiles = 1024 + 256 + 12_800;
        assertThat(new OpenFilesCheck(1024, 12_800).run(host).severity()).isEqualTo(Severity.OK);
        host.openFiles = -1;
        assertThat(new OpenFilesCheck(1024, 12_800).run(host).severity()).isEqualTo(Severity.OK);
    }

    @Test
    void openFilesWarnBelowSessionsAndNatSocketsAndFailBelowSessions() {
        host.openFiles = 4096;
        Finding short_ = new OpenFilesCheck(1024, 12_800).run(host);
        assertThat(short_.severity()).isEqualTo(Severity.WARN);
        assertThat(short_.fix()).contains("ulimit -n 14080", "LimitNOFILE=14080", "--ulimit nofile=14080");
        host.openFiles = 1024; // a common default soft limit
        Finding failing = new OpenFilesCheck(1024, 12_800).run(host);
        assertThat(failing.severity()).isEqualTo(Severity.FAIL);
        assertThat(failing.what()).contains("1024 is below --max-sessions 1024 plus 256");
    }

    @Test
    void aFreePortIsFine() {
        assertThat(new UdpPortCheck(InetAddress.getLoopbackAddress(), 4433, null).run(host).severity())
                .isEqualTo(Severity.OK);
    }

    @Test
    void aPortServedByARelayWarnsAndOneTakenByAnotherProgramFails() {
        host.portFree = false;
        InetSocketAddress admin = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9433);
        Finding other = new UdpPortCheck(InetAddress.getLoopbackAddress(), 4433, admin).run(host);
        assertThat(other.severity()).isEqualTo(Severity.FAIL);
        assertThat(other.fix()).contains("ss -lunp 'sport = :4433'", "--port");
        host.relayAnswers = true;
        Finding relay = new UdpPortCheck(InetAddress.getLoopbackAddress(), 4433, admin).run(host);
        assertThat(relay.severity()).isEqualTo(Severity.WARN);
        assertThat(relay.what()).contains("a relay already running", "127.0.0.1:9433");
    }

    @Test
    void aFullSizedDefaultRouteIsFine() {
        assertThat(new RouteMtuCheck(1200, 1472).run(host).severity()).isEqualTo(Severity.OK);
    }

    @Test
    void aSmallerRouteWarnsOneTooSmallForQuicFailsAndNoRouteWarns() {
        host.route = Optional.of(new HostFacts.Route("wg0", 1420));
        Finding smaller = new RouteMtuCheck(1200, 1472).run(host);
        assertThat(smaller.severity()).isEqualTo(Severity.WARN);
        assertThat(smaller.what()).contains("wg0 has MTU 1420", "at most 1392 bytes");
        host.route = Optional.of(new HostFacts.Route("tun0", 1200));
        assertThat(new RouteMtuCheck(1200, 1472).run(host).severity()).isEqualTo(Severity.FAIL);
        host.route = Optional.empty();
        assertThat(new RouteMtuCheck(1200, 1472).run(host).severity()).isEqualTo(Severity.WARN);
    }
}
