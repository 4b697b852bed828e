package dev.riscvrelay.relay.transport.framed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Chunks as the upstream client sends frames over 950 bytes: 0x02, id (u16 BE), index, count, 900-byte payloads. */
class ChunkReassemblyTest {

    private static final int HEADROOM = 8;
    private final Counters counters = new Counters();
    private final long[] now = {1_000};
    private final ChunkReassembly chunks = new ChunkReassembly(counters, () -> now[0],
            PooledByteBufAllocator.DEFAULT, HEADROOM);
    private final List<ByteBuf> created = new ArrayList<>();
    private final List<ByteBuf> added = new ArrayList<>();

    @AfterEach
    void everyChunkTakenIsReleased() {
        chunks.clear();
        for (ByteBuf chunk : added) {
            assertThat(chunk.refCnt()).as("every chunk datagram taken is released").isZero();
        }
        for (ByteBuf chunk : created) {
            if (added.stream().noneMatch(taken -> taken == chunk)) {
                chunk.release();
            }
        }
    }

    private ByteBuf add(ByteBuf chunk) {
        added.add(chunk);
        return chunks.add(chunk);
    }

    /** The chunks of {@code frame} as encode_chunked_frame makes them. */
    private List<ByteBuf> chunked(byte[] frame, int id, int payload) {
        int count = (frame.length + payload - 1) / payload;
        List<ByteBuf> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int from = i * payload;
            int to = Math.min(frame.length, from + payload);
            ByteBuf chunk = Unpooled.directBuffer(5 + to - from);
            chunk.writeByte(0x02).writeShort(id).writeByte(i).writeByte(count).writeBytes(frame, from, to - from);
            created.add(chunk);
            out.add(chunk);
        }
        return out;
    }

    private static byte[] frame(int length, int seed) {
        byte[] frame = new byte[length];
        new Random(seed).nextBytes(frame);
        return frame;
    }

    private static byte[] bytes(ByteBuf frame) {
        try {
            return ByteBufUtil.getBytes(frame);
        } finally {
            frame.release();
        }
    }

    @Test
    void reassemblesAFrameFromItsChunksInAnyOrderWithHeadroomForThePrefixes() {
        byte[] frame = frame(1199, 1);
        List<ByteBuf> parts = chunked(frame, 7, 900);
        assertThat(parts).hasSize(2);
        assertThat(add(parts.get(1))).isNull();
        assertThat(chunks.pendingFrames()).isEqualTo(1);
        ByteBuf whole = add(parts.get(0));
        assertThat(whole).isNotNull();
        assertThat(whole.readerIndex()).isEqualTo(HEADROOM);
        assertThat(bytes(whole)).isEqualTo(frame);
        assertThat(chunks.pendingFrames()).isZero();
        assertThat(counters.get(Counter.FRAMED_CHUNKED_FRAMES)).isEqualTo(1);
    }

    @Test
    void interleavedFramesEachComeOutWhole() {
        byte[] a = frame(1500, 2);
        byte[] b = frame(1000, 3);
        List<ByteBuf> partsA = chunked(a, 65535, 500);
        List<ByteBuf> partsB = chunked(b, 0, 900);
        assertThat(add(partsA.get(2))).isNull();
        assertThat(add(partsB.get(0))).isNull();
        assertThat(add(partsA.get(0))).isNull();
        assertThat(bytes(add(partsB.get(1)))).isEqualTo(b);
        assertThat(bytes(add(partsA.get(1)))).isEqualTo(a);
    }

    @Test
    void anIncompleteFrameTimesOutAndIsCountedAndANewFrameEvictsTheOldestWhenAllSlotsAreTaken() {
        add(chunked(frame(1200, 4), 1, 900).get(0));
        now[0] += ChunkReassembly.TIMEOUT_NANOS;
        chunks.expire(now[0]);
        assertThat(chunks.pendingFrames()).isZero();
        assertThat(counters.get(Counter.DROP_FRAMED_CHUNK_TIMEOUT)).isEqualTo(1);

        for (int id = 10; id < 10 + ChunkReassembly.MAX_PENDING; id++) {
            now[0]++;
            add(chunked(frame(1200, id), id, 900).get(0));
        }
        assertThat(chunks.pendingFrames()).isEqualTo(ChunkReassembly.MAX_PENDING);
        List<ByteBuf> late = chunked(frame(1200, 99), 99, 900);
        add(late.get(0));
        assertThat(chunks.pendingFrames()).as("bounded").isEqualTo(ChunkReassembly.MAX_PENDING);
        assertThat(counters.get(Counter.DROP_FRAMED_CHUNK_TIMEOUT)).isEqualTo(2);
        // The evicted frame (id 10) cannot complete; the newest still can.
        assertThat(add(chunked(frame(1200, 10), 10, 900).get(1))).isNull();
        assertThat(add(late.get(1))).isNotNull().satisfies(ByteBuf::release);
    }

    @Test
    void malformedChunksAreDroppedAndCountedNeverKept() {
        ByteBuf shortHeader = Unpooled.directBuffer().writeByte(2).writeShort(1).writeByte(0).writeByte(2);
        ByteBuf zeroCount = Unpooled.directBuffer().writeByte(2).writeShort(1).writeByte(0).writeByte(0).writeByte(9);
        ByteBuf indexOver = Unpooled.directBuffer().writeByte(2).writeShort(1).writeByte(2).writeByte(2).writeByte(9);
        ByteBuf tooMany = Unpooled.directBuffer().writeByte(2).writeShort(1).writeByte(0)
                .writeByte(ChunkReassembly.MAX_CHUNKS + 1).writeByte(9);
        created.addAll(List.of(shortHeader, zeroCount, indexOver, tooMany));
        for (ByteBuf bad : List.of(shortHeader, zeroCount, indexOver, tooMany)) {
            assertThat(add(bad)).isNull();
        }
        assertThat(counters.get(Counter.DROP_FRAMED_CHUNK_MALFORMED)).isEqualTo(4);

        // A repeated index or a changed count ends the frame; so does a frame over the size limit.
        List<ByteBuf> parts = chunked(frame(1200, 5), 3, 900);
        List<ByteBuf> again = chunked(frame(1200, 5), 3, 900);
        add(parts.get(0));
        assertThat(add(again.get(0))).isNull();
        assertThat(chunks.pendingFrames()).isZero();
        assertThat(add(parts.get(1))).as("a lone chunk waits").isNull();
        assertThat(add(chunked(frame(2000, 6), 3, 700).get(0))).as("count 3 for a count-2 frame").isNull();
        assertThat(chunks.pendingFrames()).isZero();
        List<ByteBuf> huge = chunked(frame(ChunkReassembly.MAX_FRAME + 1, 7), 4, 800);
        assertThat(add(huge.get(0))).isNull();
        assertThat(add(huge.get(1))).isNull();
        assertThat(chunks.pendingFrames()).isZero();
        assertThat(counters.get(Counter.DROP_FRAMED_CHUNK_MALFORMED)).isEqualTo(7);
        assertThat(counters.get(Counter.FRAMED_CHUNKED_FRAMES)).isZero();
    }
}
