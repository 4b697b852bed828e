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
 * The workers part against real relays, small and short: each relay's counts agree with the load generator's,
 * every session lands in its pair's network on one of the relay's workers, and the CPU is told apart by worker.
 */
class WorkersBenchIT {

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void relaysWithOneAndThreeWorkersCarryEveryPairInItsOwnNetwork() throws Exception {
        WorkersBench.Plan plan = new WorkersBench.Plan(List.of(1, 3), 6, 1200, 1, Duration.ofMillis(500),
                Duration.ofMillis(1500));
        IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        StringWriter log = new StringWriter();
        try {
            WorkersBench.Results results = new WorkersBench(plan, (IoEventLoop) group.next(),
                    new PrintWriter(log, true)).run();

            assertThat(results.runs()).extracting(WorkersBench.Run::workers).containsExactly(1, 3);
            for (WorkersBench.Run run : results.runs()) {
                SwitchBench.PeakRow peak = run.peak();
                assertThat(peak.fixture()).isEqualTo(WorkersBench.relayName(run.workers()));
                assertThat(peak.accounting().violations()).as(peak.fixture()).isEmpty();
                assertThat(peak.framesPerSecond()).as(peak.fixture()).isPositive();
                assertThat(peak.processCores()).as(peak.fixture()).isPositive();
                // Each worker thread is read by name; together they are the loop cores.
                assertThat(WorkersReport.workerCores(peak).keySet()).as(peak.fixture())
                        .containsExactlyElementsOf(java.util.stream.IntStream.range(0, run.workers()).boxed()
                                .toList());
                assertThat(peak.loopThreadCores().values().stream().mapToDouble(Double::doubleValue).sum())
                        .isCloseTo(peak.forwarderCores(), org.assertj.core.api.Assertions.within(1e-9));
                assertThat(run.landings()).as(peak.fixture()).hasSize(plan.sessions());
                for (WorkersBench.Landing landing : run.landings()) {
                    assertThat(landing.network()).isEqualTo(RelayProcessFixture.network(landing.session()));
                    assertThat(landing.worker()).isBetween(0, run.workers() - 1);
                }
            }
            StringBuilder md = new StringBuilder();
            WorkersReport.section(md, results);
            assertThat(md.toString()).contains("| 3 | ").contains("What this machine shows:");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nbench log:\n" + log, e);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }
}
