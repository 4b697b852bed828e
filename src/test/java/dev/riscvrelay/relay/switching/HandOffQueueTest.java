package dev.riscvrelay.relay.switching;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HandOffQueueTest {

    private final Counters counters = new Counters();

    @Test
    void framesArriveInOrderWithTheirTargetsAndOneDrainTaskServesABurst() {
        List<Runnable> tasks = new ArrayList<>();
        List<String> received = new ArrayList<>();
        HandOffQueue<String> queue = new HandOffQueue<>(8, tasks::add, (target, frame) -> {
            received.add(target + ":" + frame.readByte());
            frame.release();
        }, counters);
        for (int i = 0; i < 5; i++) {
            assertThat(queue.offer("port" + (i % 2), Unpooled.wrappedBuffer(new byte[] {(byte) i}))).isTrue();
        }
        assertThat(tasks).as("one wake-up of the consumer for the burst").hasSize(1);
        assertThat(queue.size()).isEqualTo(5);
        tasks.removeFirst().run();
        assertThat(received).containsExactly("port0:0", "port1:1", "port0:2", "port1:3", "port0:4");
        assertThat(queue.size()).isZero();

        queue.offer("port1", Unpooled.wrappedBuffer(new byte[] {9}));
        assertThat(tasks).as("the next frame after a drain schedules the next drain").hasSize(1);
        tasks.removeFirst().run();
        assertThat(received).endsWith("port1:9");
    }

    @Test
    void aFullRingDropsReleasesAndCountsTheFrame() {
        List<Runnable> tasks = new ArrayList<>();
        HandOffQueue<String> queue = new HandOffQueue<>(3, tasks::add, (target, frame) -> frame.release(), counters);
        assertThat(queue.capacity()).as("rounded up to a power of two").isEqualTo(4);
        List<ByteBuf> taken = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ByteBuf frame = Unpooled.buffer(1).writeByte(i);
            taken.add(frame);
            assertThat(queue.offer("p", frame)).isTrue();
        }
        ByteBuf overflow = Unpooled.buffer(1).writeByte(4);
        assertThat(queue.offer("p", overflow)).isFalse();
        assertThat(overflow.refCnt()).as("the dropped frame is released").isZero();
        assertThat(counters.get(Counter.DROP_HANDOFF_FULL)).isEqualTo(1);

        tasks.removeFirst().run();
        assertThat(taken).allSatisfy(frame -> assertThat(frame.refCnt()).isZero());
        assertThat(queue.offer("p", Unpooled.buffer(1).writeByte(5))).as("room again once drained").isTrue();
        queue.close();
        assertThat(queue.size()).isZero();
    }

    @Test
    void closeReleasesWhatIsLeft() {
        HandOffQueue<String> queue = new HandOffQueue<>(16, task -> { }, (target, frame) -> frame.release(),
                counters);
        ByteBuf left = Unpooled.buffer(1).writeByte(1);
        queue.offer("p", left);
        queue.close();
        assertThat(left.refCnt()).isZero();
    }

    @Test
    void aProducerThreadAndAConsumerThreadLoseNothingAndKeepTheOrder() throws Exception {
        int frames = 200_000;
        ExecutorService consumer = Executors.newSingleThreadExecutor();
        AtomicInteger next = new AtomicInteger();
        AtomicInteger outOfOrder = new AtomicInteger();
        CountDownLatch all = new CountDownLatch(1);
        HandOffQueue<Integer> queue = new HandOffQueue<>(64, consumer, (target, frame) -> {
            int value = frame.readInt();
            frame.release();
            if (value != target || value != next.get()) {
                outOfOrder.incrementAndGet();
            }
            if (next.incrementAndGet() == frames) {
                all.countDown();
            }
        }, counters);
        Thread producer = new Thread(() -> {
            for (int i = 0; i < frames; i++) {
                ByteBuf frame = Unpooled.buffer(4).writeInt(i);
                while (queue.size() >= queue.capacity()) {
                    Thread.onSpinWait(); // this test wants every frame through, so it waits for room
                }
                if (!queue.offer(i, frame)) {
                    throw new AssertionError("full although there was room");
                }
            }
        });
        producer.start();
        try {
            assertThat(all.await(30, TimeUnit.SECONDS)).as("all %d frames arrived (got %d)", frames, next.get())
                    .isTrue();
            producer.join(5_000);
        } finally {
            consumer.shutdownNow();
        }
        assertThat(outOfOrder.get()).isZero();
        assertThat(counters.get(Counter.DROP_HANDOFF_FULL)).isZero();
    }
}
