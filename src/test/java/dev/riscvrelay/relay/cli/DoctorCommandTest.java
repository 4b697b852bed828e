package dev.riscvrelay.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** {@code relay doctor} on this host, through the command line as an operator runs it. */
class DoctorCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return RelayCommand.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void everyCheckPrintsOneVerdictAndATakenPortFailsTheRun() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int exit = run("doctor", "--bind", "127.0.0.1", "--port", String.valueOf(taken.getLocalPort()),
                    "--admin", "off");

            assertThat(exit).isEqualTo(2);
            assertThat(out.toString().lines().filter(line -> !line.startsWith("     ")))
                    .hasSize(7)
                    .allMatch(line -> line.matches("(OK  |WARN|FAIL) \\S.*"))
                    .anyMatch(line -> line.startsWith("FAIL port          127.0.0.1:" + taken.getLocalPort()
                            + " is in use by another program"));
        }
    }

    @Test
    void aFreePortPassesAndTheExitCodeIsTheWorstOfTheRest() throws Exception {
        int port;
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            port = probe.getLocalPort();
        }
        int exit = run("doctor", "--bind", "127.0.0.1", "--port", String.valueOf(port), "--admin", "off");

        assertThat(out.toString()).contains("OK   port          udp and tcp 127.0.0.1:" + port + " are free");
        int worst = out.toString().contains("\nFAIL") || out.toString().startsWith("FAIL") ? 2
                : out.toString().contains("WARN") ? 1 : 0;
        assertThat(exit).isEqualTo(worst);
    }

    @Test
    void aCertificateWithoutItsKeyIsAUsageError() {
        assertThat(run("doctor", "--cert-pem", "fullchain.pem")).isEqualTo(2);
        assertThat(err.toString()).contains("--cert-pem and --key-pem go together");
        assertThat(out.toString()).isEmpty();
    }
}
