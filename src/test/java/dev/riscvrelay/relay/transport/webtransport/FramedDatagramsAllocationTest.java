package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Prefixing a frame for a framed session ({@code 0x01} + frame) allocates no more than prefixing it for a raw
 * session, for the frame a raw session's datagram leaves behind: one byte of headroom, pooled direct buffer.
 * Measured with the JVM's per-thread allocation counter on an event-loop-style thread.
 */
class FramedDatagramsAllocationTest {

    private static final int WARM_UP = 100_000;
    private static final int MEASURED = 500_000;
    private static final int FRAME = 1199;

    @Test
    void aFramedPrefixAllocatesNoMoreThanARawOne() throws Exception {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertThat(threads.isThreadAllocatedMemorySupported()).isTrue();
        threads.setThreadAllocatedMemoryEnabled(true);
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        Counters counters = new Counters();
        PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
        long[] bytes = new long[2];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try {
            Thread loop = new FastThreadLocalThread(() -> {
                try {
                    bytes[0] = measure(threads, alloc, frame -> HttpDatagram.encode(frame, 0, 1, alloc));
                    bytes[1] = measure(threads, alloc, frame -> FramedDatagrams.data(frame, 0, 1, alloc, counters));
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "allocation-check");
            loop.start();
            loop.join(120_000);
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
        if (failure.get() != null) {
            throw new AssertionError("measurement failed", failure.get());
        }
        System.out.printf("[facts] bytes allocated per %d-byte frame prefixed: raw %.4f, framed %.4f%n", FRAME,
                bytes[0] / (double) MEASURED, bytes[1] / (double) MEASURED);
        assertThat(counters.get(Counter.DATAGRAMS_COPIED)).as("moved up in place, never copied").isZero();
        assertThat(bytes[1]).as("framed (%d bytes) vs raw (%d bytes) over %d frames", bytes[1], bytes[0], MEASURED)
                .isLessThan(bytes[0] + 16 * 1024);
    }

    /** Bytes allocated by receiving (a pooled datagram, its 1-byte prefix skipped), prefixing and releasing frames. */
    private static long measure(com.sun.management.ThreadMXBean threads, PooledByteBufAllocator alloc,
            UnaryOperator<ByteBuf> prefix) {
        long thread = Thread.currentThread().threadId();
        for (int i = 0; i < WARM_UP; i++) {
            roundTrip(alloc, prefix);
        }
        long before = threads.getThreadAllocatedBytes(thread);
        for (int i = 0; i < MEASURED; i++) {
            roundTrip(alloc, prefix);
        }
        return threads.getThreadAllocatedBytes(thread) - before;
    }

    private static void roundTrip(PooledByteBufAllocator alloc, UnaryOperator<ByteBuf> prefix) {
        ByteBuf datagram = alloc.directBuffer(1 + FRAME);
        datagram.writerIndex(1 + FRAME).readerIndex(1);
        prefix.apply(datagram).release();
    }
}
