package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The load generator against the real forwarders, small and short: what it counts must agree with each
 * forwarder's switch counters, and an unhurried run must lose nothing. Sanity, not speed.
 */
class SwitchBenchIT {

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void loadGeneratorCountsAgreeWithEveryForwardersSwitchCounters() throws Exception {
        SwitchBench.Plan plan = new SwitchBench.Plan(List.of(200), List.of(2), List.of(0.1), List.of(200), 1,
                // Long enough that a loaded 2-core machine still moves frames in the measured interval (a flow whose
                // frames were all lost is credited back only after a stall).
                Duration.ofMillis(500), Duration.ofMillis(2000), Duration.ofMillis(100), Duration.ofMillis(400));
        IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        StringWriter log = new StringWriter();
        try {
            SwitchBench bench = new SwitchBench(plan, (IoEventLoop) group.next(), new PrintWriter(log, true));
            SwitchBench.Results results = bench.run(List.of(() -> new RelayProcessFixture(16), QuicForwarderFixture::new,
                    UdpForwarderFixture::new), null);

            assertThat(results.peaks()).extracting(SwitchBench.PeakRow::fixture)
                    .containsExactly(BenchReport.RELAY, BenchReport.QUIC, BenchReport.UDP);
            for (SwitchBench.PeakRow peak : results.peaks()) {
                assertThat(peak.accounting().violations()).as(peak.fixture()).isEmpty();
                assertThat(peak.framesPerSecond()).as(peak.fixture()).isPositive();
                assertThat(peak.accounting().load().received()).as(peak.fixture()).isPositive();
                assertThat(peak.accounting().framesIn()).as("every frame the switch saw was sent")
                        .isLessThanOrEqualTo(peak.accounting().load().sent());
            }
            assertThat(results.latencies()).hasSize(3);
            for (SwitchBench.LatencyRow row : results.latencies()) {
                Accounting a = row.accounting();
                assertThat(a.violations()).as(row.fixture()).isEmpty();
                // At a tenth of the peak nothing is lost: every count along the path is the same number.
                assertThat(a.load().sent()).as(row.fixture()).isPositive();
                assertThat(a.framesIn()).as(row.fixture() + " in").isEqualTo(a.load().sent());
                assertThat(a.framesOut()).as(row.fixture() + " out").isEqualTo(a.load().sent());
                assertThat(a.load().received()).as(row.fixture() + " received").isEqualTo(a.load().sent());
                assertThat(row.samples()).as("latency samples").isPositive().isLessThanOrEqualTo(a.load().received());
                assertThat(row.p50()).isPositive().isLessThanOrEqualTo(row.p99());
                assertThat(row.p99()).isLessThanOrEqualTo(row.p999());
            }
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nbench log:\n" + log, e);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }
}
