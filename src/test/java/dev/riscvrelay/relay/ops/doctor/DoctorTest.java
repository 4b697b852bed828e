package dev.riscvrelay.relay.ops.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class DoctorTest {

    private final FakeHost host = new FakeHost();

    private static String print(List<Finding> findings, int[] exit) {
        StringWriter text = new StringWriter();
        exit[0] = Doctor.report(findings, new PrintWriter(text));
        return text.toString();
    }

    @Test
    void theExitCodeIsTheWorstSeverityAndEachProblemSaysWhatToChange() {
        int[] exit = new int[1];
        Doctor doctor = new Doctor(List.of(new PingGroupCheck(), new UdpOffloadCheck()));
        assertThat(print(doctor.examine(host), exit)).isEqualTo(
                "OK   ping sockets  net.ipv4.ping_group_range \"0 2147483647\" includes group 1000 of this user\n"
                        + "OK   udp gso/gro   UDP GSO and GRO are available: bursts cost one system call each way\n");
        assertThat(exit[0]).isZero();

        host.gso = false;
        assertThat(print(doctor.examine(host), exit)).contains("WARN udp gso/gro   UDP GSO is not available",
                "\n                   change: Linux with the epoll transport");
        assertThat(exit[0]).isEqualTo(1);

        host.openFiles = 10;
        assertThat(print(new Doctor(List.of(new UdpOffloadCheck(), new OpenFilesCheck(100, 100))).examine(host), exit))
                .contains("FAIL open files");
        assertThat(exit[0]).isEqualTo(2);
    }

    @Test
    void aCheckThatThrowsIsAFailureOfItsOwnAndTheOthersStillRun() {
        Check broken = facts -> {
            throw new IllegalStateException("unreadable");
        };
        List<Finding> findings = new Doctor(List.of(broken, new UdpOffloadCheck())).examine(host);
        assertThat(findings).extracting(Finding::severity).containsExactly(Severity.FAIL, Severity.OK);
        assertThat(findings.getFirst().what()).contains("unreadable");
    }
}
