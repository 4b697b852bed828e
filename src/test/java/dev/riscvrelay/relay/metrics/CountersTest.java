package dev.riscvrelay.relay.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class CountersTest {

    @Test
    void dropCountersNameTheirReasonAndTheOthersHaveNone() {
        assertThat(Counter.DROP_QUEUE_FULL.isDrop()).isTrue();
        assertThat(Counter.DROP_QUEUE_FULL.dropReason()).isEqualTo("queue_full");
        assertThat(Counter.DROP_WISP_UDP_BUSY.dropReason()).isEqualTo("wisp_udp_busy");
        assertThat(Counter.FRAMES_IN.isDrop()).isFalse();
        assertThatThrownBy(Counter.FRAMES_IN::dropReason).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void loopThreadsAndOtherThreadsCountTogetherWithoutLosingOne() throws Exception {
        Counters counters = new Counters();
        int perThread = 200_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            // Event loop threads count into rows of their own; the others share one with atomic adds.
            threads.add(new FastThreadLocalThread(() -> count(counters, start, perThread)));
            threads.add(new Thread(() -> count(counters, start, perThread)));
        }
        threads.forEach(Thread::start);
        long seenWhileCounting = 0;
        start.countDown();
        for (int i = 0; i < 100; i++) {
            long now = counters.get(Counter.FRAMES_IN);
            assertThat(now).as("a read while others count never goes back").isGreaterThanOrEqualTo(seenWhileCounting);
            seenWhileCounting = now;
        }
        for (Thread thread : threads) {
            thread.join(30_000);
        }
        assertThat(counters.get(Counter.FRAMES_IN)).isEqualTo(6L * perThread);
        assertThat(counters.get(Counter.BYTES_IN)).isEqualTo(6L * perThread * 3);
        assertThat(counters.snapshot()).containsEntry(Counter.FRAMES_IN, 6L * perThread)
                .containsEntry(Counter.DROP_RUNT, 0L);
    }

    @Test
    void nonZeroHoldsOnlyTheCountersThatMoved() {
        Counters counters = new Counters();
        assertThat(counters.nonZero()).isEmpty();
        counters.add(Counter.BYTES_IN, 64);
        counters.increment(Counter.DROP_RUNT);
        assertThat(counters.nonZero()).containsExactly(java.util.Map.entry(Counter.BYTES_IN, 64L),
                java.util.Map.entry(Counter.DROP_RUNT, 1L));
    }

    private static void count(Counters counters, CountDownLatch start, int times) {
        try {
            start.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        for (int i = 0; i < times; i++) {
            counters.increment(Counter.FRAMES_IN);
            counters.add(Counter.BYTES_IN, 3);
        }
    }
}
