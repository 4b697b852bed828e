package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The plain UDP forwarder in its own process, with its endpoints: frames sent in bursts (one GSO packet a turn,
 * read whole with GRO and recvmmsg, forwarded as GSO again) all arrive, in order, and its /metrics and /proc CPU
 * time say so.
 */
class UdpForwarderFixtureIT {

    private static final int BURSTS = 50;
    private static final int BURST = 100; // more than one GSO packet holds

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void burstsOfFramesCrossTheForwarderProcessWholeAndCounted() throws Exception {
        IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        IoEventLoop loop = (IoEventLoop) group.next();
        AtomicIntegerArray received = new AtomicIntegerArray(2);
        AtomicLong outOfOrder = new AtomicLong();
        long[] next = new long[2];
        try (UdpForwarderFixture fixture = new UdpForwarderFixture()) {
            List<Endpoint> endpoints = fixture.open(2, loop, (index, frame) -> {
                if (BenchFrames.type(frame) == BenchFrames.TYPE_MEASURED) {
                    if (BenchFrames.sequence(frame) != next[index]) {
                        outOfOrder.incrementAndGet();
                    }
                    next[index] = BenchFrames.sequence(frame) + 1;
                    received.incrementAndGet(index);
                }
                frame.release();
            });
            // Each endpoint says hello until the switch knows both MACs (bounded).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (fixture.counters().get(Counter.MAC_LEARNED) < 2 && System.nanoTime() < deadline) {
                loop.submit(() -> {
                    for (int i = 0; i < 2; i++) {
                        endpoints.get(i).send(BenchFrames.hello(PooledByteBufAllocator.DEFAULT, i));
                    }
                }).sync();
                Thread.sleep(100);
            }
            assertThat(fixture.counters().get(Counter.MAC_LEARNED)).isEqualTo(2);
            var before = fixture.counters();
            CpuTime cpuBefore = fixture.cpu();

            for (int burst = 0; burst < BURSTS; burst++) {
                int b = burst;
                loop.submit(() -> {
                    for (int i = 0; i < BURST; i++) {
                        long sequence = (long) b * BURST + i;
                        for (int from = 0; from < 2; from++) {
                            ByteBuf frame = BenchFrames.measured(PooledByteBufAllocator.DEFAULT, 1200, from, 1 - from,
                                    sequence, System.nanoTime());
                            endpoints.get(from).send(frame);
                        }
                    }
                }).sync();
                Thread.sleep(5);
            }
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((received.get(0) < BURSTS * BURST || received.get(1) < BURSTS * BURST)
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            var after = fixture.counters();
            CpuTime cpuAfter = fixture.cpu();

            assertThat(after.get(Counter.FRAMES_IN) - before.get(Counter.FRAMES_IN)).isEqualTo(2L * BURSTS * BURST);
            assertThat(after.get(Counter.FRAMES_OUT) - before.get(Counter.FRAMES_OUT)).isEqualTo(2L * BURSTS * BURST);
            assertThat(received.get(0)).isEqualTo(BURSTS * BURST);
            assertThat(received.get(1)).isEqualTo(BURSTS * BURST);
            assertThat(outOfOrder.get()).isZero();
            assertThat(cpuAfter.hasProcess()).isTrue();
            assertThat(cpuAfter.processNanos()).isGreaterThanOrEqualTo(cpuAfter.loopNanos());
            assertThat(cpuAfter.loopNanos()).isGreaterThanOrEqualTo(cpuBefore.loopNanos());
            for (Endpoint endpoint : endpoints) {
                endpoint.close();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }
}
