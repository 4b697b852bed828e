package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ToolOutputTest {

    @Test
    void curlWriteOutGivesBytesSecondsAndRate() {
        ToolOutput.Transfer transfer = ToolOutput.curl("209715200 0.812345 200");
        assertThat(transfer.bytes()).isEqualTo(209_715_200L);
        assertThat(transfer.httpCode()).isEqualTo(200);
        assertThat(transfer.megabitsPerSecond()).isCloseTo(209_715_200 * 8 / 0.812345 / 1e6, within(1e-6));
    }

    @Test
    void curlWriteOutWithADecimalCommaOrTrailingNewlineIsRead() {
        assertThat(ToolOutput.curl("1000 0,5 200\n").megabitsPerSecond()).isCloseTo(0.016, within(1e-9));
    }

    @Test
    void somethingElseThanCurlWriteOutIsRefusedWithTheText() {
        assertThatThrownBy(() -> ToolOutput.curl("curl: (7) Failed to connect"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Failed to connect");
        assertThat(ToolOutput.curl("0 0.000000 000").megabitsPerSecond()).isNaN();
    }

    /** Captured: {@code iperf3 -c 127.0.0.1 -t 1 -J} (iperf 3.12). */
    @Test
    void iperf3TcpGivesTheReceiversRateNotTheSenders() throws IOException {
        ToolOutput.Iperf iperf = ToolOutput.iperf3(resource("iperf3-tcp.json"));
        assertThat(iperf.megabitsPerSecond()).isCloseTo(20_388.397209, within(1e-3));
        assertThat(iperf.seconds()).isCloseTo(1.0034, within(1e-9));
        assertThat(iperf.lossPercent()).isNaN();
    }

    /** Captured: {@code iperf3 -c 127.0.0.1 -t 1 -u -b 100M -l 1200 -J} (iperf 3.12). */
    @Test
    void iperf3UdpGivesTheReceiversRateAndLoss() throws IOException {
        ToolOutput.Iperf iperf = ToolOutput.iperf3(resource("iperf3-udp.json"));
        assertThat(iperf.megabitsPerSecond()).isCloseTo(99.905819, within(1e-5));
        assertThat(iperf.lossPercent()).isZero();
        assertThat(iperf.packets()).isEqualTo(10_409);
        assertThat(iperf.lostPackets()).isZero();
    }

    @Test
    void iperf3LossIsReadFromTheReceiverSummary() {
        String json = """
                {"start": {}, "end": {"sum": {"bits_per_second": 5e7, "lost_packets": 1, "packets": 10,
                "lost_percent": 10},
                "sum_received": {"seconds": 2.0, "bits_per_second": 4.5E+7, "lost_packets": 250,
                "packets": 1000, "lost_percent": 25.0, "sender": false}}}
                """;
        ToolOutput.Iperf iperf = ToolOutput.iperf3(json);
        assertThat(iperf.megabitsPerSecond()).isCloseTo(45, within(1e-9));
        assertThat(iperf.lossPercent()).isEqualTo(25.0);
        assertThat(iperf.lostPackets()).isEqualTo(250);
    }

    @Test
    void iperf3ErrorsAreReportedInItsOwnWords() {
        assertThatThrownBy(() -> ToolOutput.iperf3("{\"start\": {}, \"error\": \"unable to connect to server: "
                + "Connection refused\"}")).hasMessage("iperf3: unable to connect to server: Connection refused");
        assertThatThrownBy(() -> ToolOutput.iperf3("")).hasMessageContaining("no end.sum_received");
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = ToolOutputTest.class.getResourceAsStream("/bench/" + name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
