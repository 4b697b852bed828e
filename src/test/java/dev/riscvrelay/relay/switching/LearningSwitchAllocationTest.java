package dev.riscvrelay.relay.switching;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.wire.MacAddress;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Forwarding is the hot path: in steady state it must not allocate. Measured with the JVM's per-thread
 * allocation counter on an event-loop-style thread, over pooled direct buffers as the transports use.
 */
class LearningSwitchAllocationTest {

    private static final long A = MacAddress.parse("52:54:00:00:00:0a");
    private static final long B = MacAddress.parse("52:54:00:00:00:0b");
    private static final long UNKNOWN = MacAddress.parse("52:54:00:00:00:99");
    private static final int WARM_UP_ROUNDS = 100_000;
    private static final int MEASURED_ROUNDS = 250_000; // 4 frames a round: 1e6 forwards
    private static final int FRAMES_PER_ROUND = 4;

    @Test
    void steadyStateForwardingAllocatesNothingPerFrame() throws Exception {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertThat(threads.isThreadAllocatedMemorySupported())
                .as("this JVM must report per-thread allocation for this test").isTrue();
        threads.setThreadAllocatedMemoryEnabled(true);

        // Paranoid leak detection wraps and records every buffer it sees, which allocates by design; the
        // other tests run under it, this one measures the switch alone.
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        AtomicLong allocatedBytes = new AtomicLong(-1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Counters counters = new Counters();
        try {
            Thread loop = new FastThreadLocalThread(() -> {
                try {
                    allocatedBytes.set(measure(threads, counters));
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "allocation-check");
            loop.start();
            loop.join(120_000);
            assertThat(loop.isAlive()).as("measurement finished within 2 minutes").isFalse();
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
        if (failure.get() != null) {
            throw new AssertionError("measurement failed", failure.get());
        }

        long frames = (long) MEASURED_ROUNDS * FRAMES_PER_ROUND;
        assertThat(counters.get(Counter.FRAMES_IN))
                .isEqualTo(1 + (long) (WARM_UP_ROUNDS + MEASURED_ROUNDS) * FRAMES_PER_ROUND);
        // A small constant for the measurement itself, nothing that grows with the frame count.
        assertThat(allocatedBytes.get())
                .as("bytes allocated by %d forwards (%.4f per frame)", frames, allocatedBytes.get() / (double) frames)
                .isLessThan(16 * 1024);
    }

    private static long measure(com.sun.management.ThreadMXBean threads, Counters counters) {
        LearningSwitch lan = new LearningSwitch(NetworkConfig.defaults(), counters);
        ReleasingPort a = new ReleasingPort("a"), b = new ReleasingPort("b"), c = new ReleasingPort("c");
        lan.attach(a);
        lan.attach(b);
        lan.attach(c);
        ByteBuf unicastAtoB = frame(B, A);
        ByteBuf unicastBtoA = frame(A, B);
        ByteBuf broadcast = frame(MacAddress.BROADCAST, A);
        ByteBuf unknownUnicast = frame(UNKNOWN, B);
        try {
            lan.forward(b, unicastBtoA.retain()); // B learned
            forwardRounds(lan, a, b, WARM_UP_ROUNDS, unicastAtoB, unicastBtoA, broadcast, unknownUnicast);

            long threadId = Thread.currentThread().threadId();
            long before = threads.getThreadAllocatedBytes(threadId);
            forwardRounds(lan, a, b, MEASURED_ROUNDS, unicastAtoB, unicastBtoA, broadcast, unknownUnicast);
            long after = threads.getThreadAllocatedBytes(threadId);

            // The learning frame went to a and c (A was unknown then), each round makes 6 deliveries.
            assertThat(a.frames + b.frames + c.frames).isEqualTo(2 + (long) (WARM_UP_ROUNDS + MEASURED_ROUNDS) * 6);
            return after - before;
        } finally {
            unicastAtoB.release();
            unicastBtoA.release();
            broadcast.release();
            unknownUnicast.release();
        }
    }

    /** Each round: two unicasts, a broadcast and an unknown unicast (each flooded to two ports): 6 deliveries. */
    private static void forwardRounds(LearningSwitch lan, Port a, Port b, int rounds, ByteBuf unicastAtoB,
            ByteBuf unicastBtoA, ByteBuf broadcast, ByteBuf unknownUnicast) {
        for (int i = 0; i < rounds; i++) {
            lan.forward(a, unicastAtoB.retain());
            lan.forward(b, unicastBtoA.retain());
            lan.forward(a, broadcast.retain());
            lan.forward(b, unknownUnicast.retain());
        }
    }

    private static ByteBuf frame(long destination, long source) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        buf.writeShort((int) (destination >>> 32)).writeInt((int) destination);
        buf.writeShort((int) (source >>> 32)).writeInt((int) source);
        buf.writeShort(0x0800).writeZero(46);
        return buf;
    }

    /** A member that takes each frame and lets it go at once, as a transport does after writing it. */
    private static final class ReleasingPort implements Port {
        private final String name;
        long frames;

        ReleasingPort(String name) {
            this.name = name;
        }

        @Override
        public void send(ByteBuf frame) {
            frames++;
            frame.release();
        }

        @Override
        public int maxFrameSize() {
            return 1514;
        }

        @Override
        public String name() {
            return name;
        }
    }
}
