package dev.riscvrelay.relay.nat.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class ReassemblyQueueTest {

    @Test
    void growsAsSegmentsComeUpToItsBoundThenRefusesAndCountsTheBytesItHolds() {
        ReassemblyQueue queue = new ReassemblyQueue(100);
        ByteBuf frame = Unpooled.buffer(1500).writeZero(1500);
        // Arriving out of order (from the top down), each goes before the others.
        for (int i = 99; i >= 0; i--) {
            assertThat(queue.hold(1000 + 10 * i, frame, 0, 10, false)).isEqualTo(ReassemblyQueue.Held.HELD);
        }
        assertThat(queue.hold(5000, frame, 0, 10, false)).isEqualTo(ReassemblyQueue.Held.FULL);
        assertThat(queue.hold(1000, frame, 0, 10, false)).isEqualTo(ReassemblyQueue.Held.ALREADY_HELD);
        assertThat(queue.count()).isEqualTo(100);
        assertThat(queue.heldBytes()).isEqualTo(1000);
        for (int i = 0; i < 100; i++) {
            assertThat(queue.sequence(i)).isEqualTo(1000 + 10 * i);
        }
        for (int i = 0; i < 30; i++) {
            queue.takeData(i).release();
        }
        queue.dropFirst(30);
        assertThat(queue.heldBytes()).isEqualTo(700);
        assertThat(queue.sequence(0)).isEqualTo(1300);
        queue.releaseFrom(0);
        assertThat(queue.heldBytes()).isZero();
        assertThat(frame.refCnt()).as("every slice released").isEqualTo(1);
        frame.release();
    }

    @Test
    void aSegmentInAMuchLargerBufferIsCopiedRatherThanPinningIt() {
        ReassemblyQueue queue = new ReassemblyQueue(4);
        ByteBuf large = Unpooled.buffer(65536).writeZero(65536).setByte(100, 42);
        queue.hold(7, large, 100, 1000, false);
        assertThat(large.refCnt()).as("not retained").isEqualTo(1);
        ByteBuf held = queue.takeData(0);
        assertThat(held.readableBytes()).isEqualTo(1000);
        assertThat(held.getByte(held.readerIndex())).isEqualTo((byte) 42);
        held.release();
        queue.dropFirst(1);
        large.release();
    }
}
