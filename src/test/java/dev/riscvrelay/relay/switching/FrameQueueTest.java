package dev.riscvrelay.relay.switching;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.TestFrames;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FrameQueueTest {

    private static final long VM_MAC = 0x52_54_00_12_34_56L;
    private static final long FLOODER_MAC = 0x52_54_00_12_34_ffL;
    private static final int EXPERIMENT = 0x88B5;
    private static final int VM = 0x0A00_020F;
    private static final int GATEWAY = 0x0A00_0202;
    private static final int SERVER = 0xCB00_710A;

    private final Counters counters = new Counters();
    private final List<ByteBuf> polled = new ArrayList<>();

    @AfterEach
    void release() {
        polled.forEach(ByteBuf::release);
    }

    @Test
    void aPingReplyQueuedBehindADownloadsWindowLeavesAfterTheWindowsFirstSegmentOnly() {
        FrameQueue queue = new FrameQueue(512, counters);
        for (int i = 0; i < 40; i++) {
            queue.offer(download(i));
        }
        queue.offer(ping(0));

        assertThat(queue.loneFlowAheadOfBulk()).isTrue();
        assertThat(queue.sparseSize()).isEqualTo(2);
        assertThat(tagOf(poll(queue))).isEqualTo(0);
        assertThat(tagOf(poll(queue))).as("the ping reply, second").isEqualTo(-1);
        for (int i = 1; i < 40; i++) {
            assertThat(tagOf(poll(queue))).isEqualTo(i);
        }
        assertThat(queue.poll()).isNull();
    }

    @Test
    void aWindowAloneIsNotALoneFlowAheadOfBulk() {
        FrameQueue queue = new FrameQueue(512, counters);
        for (int i = 0; i < 40; i++) {
            queue.offer(download(i));
        }

        assertThat(queue.sparseSize()).as("the window's first segment").isEqualTo(1);
        assertThat(queue.loneFlowAheadOfBulk()).isFalse();
        queue.clear();
    }

    @Test
    void smallFramesOfOneFlowGoAheadUpToOneFullFramesBytesAndStayInOrder() {
        FrameQueue queue = new FrameQueue(512, counters);
        queue.offer(download(0));
        queue.offer(download(1));
        // 26 pings of 98 bytes: 15 fit the 1514-byte quantum, the rest follow the download's frames.
        for (int i = 0; i < 26; i++) {
            queue.offer(ping(i));
        }

        List<Integer> order = new ArrayList<>();
        ByteBuf frame;
        while ((frame = poll(queue)) != null) {
            order.add(tagOf(frame));
        }
        int ahead = FrameQueue.SPARSE_QUANTUM / 98;
        List<Integer> expected = new ArrayList<>();
        expected.add(0);
        for (int i = 0; i < ahead; i++) {
            expected.add(-1 - i);
        }
        expected.add(1);
        for (int i = ahead; i < 26; i++) {
            expected.add(-1 - i);
        }
        assertThat(order).isEqualTo(expected);
    }

    @Test
    void aFlowWithAFrameBehindTheOthersKeepsItsOrderWhenTheQueueIsDrainedOnlyInPart() {
        FrameQueue queue = new FrameQueue(512, counters);
        queue.offer(download(0));
        queue.offer(download(1));
        queue.offer(download(2));
        assertThat(tagOf(poll(queue))).isEqualTo(0);

        // Segment 3 arrives while 1 and 2 still wait: it follows them, though its flow has nothing in the sparse ring.
        queue.offer(download(3));
        assertThat(queue.sparseSize()).isZero();
        assertThat(tagOf(poll(queue))).isEqualTo(1);
        assertThat(tagOf(poll(queue))).isEqualTo(2);
        assertThat(tagOf(poll(queue))).isEqualTo(3);
    }

    /**
     * A flooded frame can sit in several ports' queues at once, and a port that sends it last writes its prefix in
     * place, which moves the buffer's reader index: a queue settles a flow's account with the length it counted.
     */
    @Test
    void aFrameWhoseReaderIndexMovesWhileQueuedLeavesItsFlowsAccountSettled() {
        FrameQueue queue = new FrameQueue(16, counters);
        ByteBuf frame = download(0);
        queue.offer(frame);
        frame.readerIndex(frame.readerIndex() + 1000);
        poll(queue);

        queue.offer(download(1));
        assertThat(queue.sparseSize()).as("the flow's next frame goes first again").isEqualTo(1);
        queue.clear();
    }

    @Test
    void aFullQueueDropsTheNewestFrameAndCountsIt() {
        FrameQueue queue = new FrameQueue(3, counters);
        assertThat(queue.offer(download(0))).isTrue();
        assertThat(queue.offer(download(1))).isTrue();
        assertThat(queue.offer(ping(1))).isTrue();

        ByteBuf refused = download(2);
        assertThat(queue.offer(refused)).isFalse();

        assertThat(refused.refCnt()).isZero();
        assertThat(queue.size()).isEqualTo(3);
        assertThat(queue.droppedFull()).isEqualTo(1);
        assertThat(counters.get(Counter.DROP_QUEUE_FULL)).isEqualTo(1);
        queue.clear();
    }

    @Test
    void aSparseFrameThatFindsTheQueueFullOfBulkTakesTheNewestBulkFramesPlace() {
        FrameQueue queue = new FrameQueue(8, counters);
        for (int i = 0; i < 8; i++) {
            assertThat(queue.offer(download(i))).isTrue();
        }

        assertThat(queue.offer(ping(0))).as("a flood must not shut out a ping").isTrue();

        assertThat(queue.size()).isEqualTo(8);
        assertThat(queue.droppedFull()).isEqualTo(1);
        assertThat(counters.get(Counter.DROP_QUEUE_FULL)).isEqualTo(1);
        assertThat(tagOf(poll(queue))).as("the window's first segment went sparse before the queue filled")
                .isEqualTo(0);
        assertThat(tagOf(poll(queue))).as("the ping next").isEqualTo(-1);
        for (int i = 1; i < 7; i++) {
            assertThat(tagOf(poll(queue))).as("the download in order, its newest segment dropped").isEqualTo(i);
        }
        assertThat(queue.poll()).isNull();
    }

    @Test
    void aBroadcastFloodOfOneEtherTypeDoesNotShutOutAnotherStationsFramesOfThatType() {
        FrameQueue queue = new FrameQueue(8, counters);
        for (int i = 0; i < 20; i++) {
            queue.offer(experiment(MacAddress.BROADCAST, FLOODER_MAC, i, 1000));
        }

        assertThat(queue.offer(experiment(VM_MAC, VM_MAC + 1, 100, 400))).as("a paced station's frame").isTrue();

        assertThat(tagOf(poll(queue))).as("the flood's first frame went sparse before the queue filled").isZero();
        assertThat(tagOf(poll(queue))).as("the paced frame next").isEqualTo(100);
        queue.clear();
    }

    /**
     * A port that cannot send for a while (its QUIC window closed) collects more of a paced flow's frames than the
     * sparse ring takes: those wait behind the flood, and a full queue drops the flood's newest frames for them.
     */
    @Test
    void aPacedFlowWhoseFramesWaitBehindAFloodKeepsThemWhenTheQueueIsFull() {
        FrameQueue queue = new FrameQueue(32, counters);
        int paced = 0;
        for (int i = 0; i < 200; i++) {
            queue.offer(experiment(MacAddress.BROADCAST, FLOODER_MAC, i, 1000));
            if (i % 20 == 0) {
                queue.offer(experiment(VM_MAC, VM_MAC + 1, 1000 + paced++, 400));
            }
        }

        List<Integer> left = new ArrayList<>();
        for (ByteBuf frame; (frame = poll(queue)) != null; ) {
            left.add(tagOf(frame));
        }
        assertThat(left).as("every paced frame, in order").filteredOn(tag -> tag >= 1000)
                .containsExactly(1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009);
        assertThat(left).hasSize(32);
        assertThat(queue.droppedFull()).isEqualTo(200 + 10 - 32);
    }

    @Test
    void aFlowWithAsManyFramesWaitingAsTheNewestFramesFlowIsRefusedWhenFull() {
        FrameQueue queue = new FrameQueue(4, counters);
        for (int i = 0; i < 4; i++) {
            queue.offer(download(i));
        }
        ByteBuf refused = download(4);

        assertThat(queue.offer(refused)).as("the download's own frames are the fattest").isFalse();
        assertThat(refused.refCnt()).isZero();
        queue.clear();
    }

    @Test
    void aSparseFrameIsRefusedWhenOnlySparseFramesFillTheQueue() {
        FrameQueue queue = new FrameQueue(2, counters);
        assertThat(queue.offer(udp(1, 0, 100))).isTrue();
        assertThat(queue.offer(udp(2, 0, 100))).isTrue();

        ByteBuf refused = udp(3, 0, 100);
        assertThat(queue.offer(refused)).isFalse();

        assertThat(refused.refCnt()).isZero();
        assertThat(queue.droppedFull()).isEqualTo(1);
        queue.clear();
    }

    @Test
    void clearReleasesEveryFrameAndForgetsTheFlows() {
        FrameQueue queue = new FrameQueue(64, counters);
        List<ByteBuf> frames = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ByteBuf frame = download(i);
            frames.add(frame);
            queue.offer(frame);
        }
        queue.clear();

        assertThat(frames).allSatisfy(frame -> assertThat(frame.refCnt()).isZero());
        assertThat(queue.size()).isZero();
        queue.offer(download(10));
        assertThat(queue.sparseSize()).as("the flow has nothing queued any more").isEqualTo(1);
        queue.clear();
    }

    @Test
    void framesTooShortForAnyHeaderStillQueueAsOneFlow() {
        FrameQueue queue = new FrameQueue(8, counters);
        ByteBuf runt = Unpooled.buffer(4).writeInt(0xDEADBEEF);
        ByteBuf other = Unpooled.buffer(4).writeInt(0x01020304);
        queue.offer(runt);
        queue.offer(other);

        assertThat(poll(queue)).isSameAs(runt);
        assertThat(poll(queue)).isSameAs(other);
    }

    /**
     * Random offers and partial drains of many flows, as a busy port sees them: every frame is taken, held or
     * counted dropped, nothing beyond the capacity is held, and within each flow the frames come out in the order
     * they went in (a full queue drops a flow's newest frame, never one in the middle).
     */
    @Test
    void randomTrafficKeepsEveryFlowsOrderAndLosesNothingBelowCapacity() {
        Random random = new Random(14);
        FrameQueue queue = new FrameQueue(300, counters);
        Map<Integer, Integer> nextIn = new HashMap<>();
        Map<Integer, Integer> nextOut = new HashMap<>();
        int offered = 0;
        int accepted = 0;
        int taken = 0;
        for (int step = 0; step < 20_000; step++) {
            if (random.nextInt(100) < 55) {
                int flow = random.nextInt(100) < 70 ? random.nextInt(3) : 3 + random.nextInt(200);
                int sequence = nextIn.merge(flow, 1, Integer::sum) - 1;
                int size = flow < 3 ? 1400 : 60 + random.nextInt(1400);
                offered++;
                if (queue.offer(udp(flow, sequence, size))) {
                    accepted++;
                } else {
                    nextIn.merge(flow, -1, Integer::sum); // dropped: the flow's next frame reuses the number
                }
            } else {
                ByteBuf frame = queue.poll();
                if (frame != null) {
                    taken++;
                    int flow = frame.getUnsignedShort(34) - 10_000;
                    int sequence = frame.getInt(42);
                    assertThat(sequence).as("flow %d", flow).isGreaterThan(nextOut.getOrDefault(flow, -1));
                    nextOut.put(flow, sequence);
                    frame.release();
                }
            }
            assertThat(queue.size()).isLessThanOrEqualTo(300);
        }
        assertThat(accepted).isGreaterThan(offered / 2);
        assertThat(offered - taken - queue.size()).as("every frame not taken nor held was counted dropped")
                .isEqualTo(counters.get(Counter.DROP_QUEUE_FULL));
        assertThat(counters.get(Counter.DROP_QUEUE_FULL)).as("sparse frames took some bulk frames' places")
                .isGreaterThan(offered - accepted);
        queue.clear();
    }

    private ByteBuf poll(FrameQueue queue) {
        ByteBuf frame = queue.poll();
        if (frame != null) {
            polled.add(frame);
        }
        return frame;
    }

    /** A full-size segment of one download (a UDP flow here): its tag is its number. */
    private static ByteBuf download(int number) {
        byte[] data = new byte[1400];
        ByteBuffer.wrap(data).putInt(number);
        return TestFrames.udp(VM_MAC, SERVER, 80, VM, 40_000, data);
    }

    /** A 98-byte echo from the gateway; its tag is minus one less its sequence number. */
    private static ByteBuf ping(int sequence) {
        return TestFrames.echoRequest(VM_MAC, GATEWAY, VM, 7, sequence, new byte[56]);
    }

    /** A frame of a local experimental EtherType (0x88B5) tagged with {@code tag} right after its header. */
    private static ByteBuf experiment(long destination, long source, int tag, int length) {
        ByteBuf frame = Unpooled.buffer(length).writerIndex(length);
        EthernetFrame.writeHeader(frame, 0, destination, source, EXPERIMENT);
        frame.setInt(EthernetFrame.HEADER_LENGTH, tag);
        return frame;
    }

    private static int tagOf(ByteBuf frame) {
        if (frame.getUnsignedShort(12) == EXPERIMENT) {
            return frame.getInt(EthernetFrame.HEADER_LENGTH);
        }
        if (frame.getUnsignedByte(23) == 1) {
            return -1 - frame.getUnsignedShort(40);
        }
        return frame.getInt(42);
    }

    private static ByteBuf udp(int flow, int sequence, int size) {
        byte[] data = new byte[Math.max(4, size - 42)];
        ByteBuffer.wrap(data).putInt(sequence);
        return TestFrames.udp(VM_MAC, VM, 10_000 + flow, SERVER, 53, data);
    }
}
