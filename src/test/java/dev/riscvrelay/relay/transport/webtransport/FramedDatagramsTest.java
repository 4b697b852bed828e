package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Data frames to a framed session get prefix and type byte without a new buffer wherever a raw frame would. */
class FramedDatagramsTest {

    private final Counters counters = new Counters();
    private final PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    /** A frame as received from a raw session: its 1-byte prefix in front, nothing more. */
    private ByteBuf receivedFromRawSession(byte[] frame) {
        ByteBuf datagram = alloc.directBuffer(1 + frame.length);
        datagram.writeByte(0).writeBytes(frame);
        return datagram.skipBytes(1);
    }

    private static byte[] frame(int length) {
        byte[] frame = new byte[length];
        new Random(length).nextBytes(frame);
        return frame;
    }

    @Test
    void aFrameFromARawSessionIsMovedUpInItsOwnBufferNotCopied() {
        for (int length : new int[] {14, 60, 1199, 1427}) {
            byte[] bytes = frame(length);
            ByteBuf frame = receivedFromRawSession(bytes);
            long address = frame.memoryAddress();
            ByteBuf datagram = FramedDatagrams.data(frame, 5, 1, alloc, counters);
            assertThat(datagram).isSameAs(frame);
            assertThat(datagram.memoryAddress()).as("no reallocation for %d bytes", length).isEqualTo(address);
            assertThat(datagram.readableBytes()).isEqualTo(length + 2);
            assertThat(datagram.getByte(datagram.readerIndex())).isEqualTo((byte) 5);
            assertThat(datagram.getByte(datagram.readerIndex() + 1)).isEqualTo((byte) 1);
            assertThat(ByteBufUtil.getBytes(datagram, datagram.readerIndex() + 2, length)).isEqualTo(bytes);
            datagram.release();
        }
        assertThat(counters.get(Counter.DATAGRAMS_COPIED)).isZero();
    }

    @Test
    void aFrameWithHeadroomGetsPrefixAndTypeInPlaceAndASharedOneIsCopied() {
        byte[] bytes = frame(100);
        ByteBuf frame = alloc.directBuffer(8 + 100).writerIndex(8).readerIndex(8).writeBytes(bytes);
        ByteBuf datagram = FramedDatagrams.data(frame, 70, 2, alloc, counters);
        assertThat(datagram).isSameAs(frame);
        assertThat(datagram.readerIndex()).isEqualTo(5);
        assertThat(ByteBufUtil.hexDump(datagram, 5, 3)).isEqualTo("404601");
        datagram.release();

        ByteBuf shared = receivedFromRawSession(bytes);
        ByteBuf other = shared.retainedDuplicate();
        ByteBuf copy = FramedDatagrams.data(shared, 5, 1, alloc, counters);
        assertThat(copy).isNotSameAs(shared);
        assertThat(ByteBufUtil.getBytes(copy, 2, 100)).isEqualTo(bytes);
        assertThat(ByteBufUtil.getBytes(other)).as("the other receiver's frame untouched").isEqualTo(bytes);
        assertThat(counters.get(Counter.DATAGRAMS_COPIED)).isEqualTo(1);
        copy.release();
        other.release();
    }

    @Test
    void aControlMessageIsPrefixTypeAndJson() {
        ByteBuf datagram = FramedDatagrams.control("{}".getBytes(), 3, 1, alloc);
        assertThat(ByteBufUtil.hexDump(datagram)).isEqualTo("03007b7d");
        datagram.release();
    }

    @Test
    void aFrameLargerThanOneDatagramGoesInChunksTheClientReassembles() {
        byte[] bytes = frame(1514);
        ByteBuf frame = receivedFromRawSession(bytes);
        java.util.List<ByteBuf> chunks = new java.util.ArrayList<>();
        assertThat(FramedDatagrams.chunks(frame, 0xBEEF, 5, 1, 1428, alloc, chunks::add)).isTrue();
        assertThat(frame.refCnt()).isZero();
        assertThat(chunks).hasSize(2);
        assertThat(ByteBufUtil.hexDump(chunks.get(0), 0, 6)).isEqualTo("0502beef0002");
        assertThat(ByteBufUtil.hexDump(chunks.get(1), 0, 6)).isEqualTo("0502beef0102");
        assertThat(chunks.get(0).readableBytes()).isEqualTo(1 + 5 + 900);
        assertThat(chunks.get(1).readableBytes()).isEqualTo(1 + 5 + 614);
        // What the relay's own reassembly makes of them (after the Quarter Stream ID) is the frame.
        dev.riscvrelay.relay.transport.framed.FramedSession session = new dev.riscvrelay.relay.transport.framed
                .FramedSession(new dev.riscvrelay.relay.transport.framed.FramedSession.Link() {
                    @Override
                    public void sendControl(byte[] json) {
                    }

                    @Override
                    public void end(String reason) {
                    }
                }, dev.riscvrelay.relay.access.AddressAssignment.NONE, counters, () -> 0, alloc, 8);
        assertThat(session.receive(chunks.get(0).skipBytes(1))).isNull();
        ByteBuf whole = session.receive(chunks.get(1).skipBytes(1));
        assertThat(ByteBufUtil.getBytes(whole)).isEqualTo(bytes);
        whole.release();

        ByteBuf tooNarrow = receivedFromRawSession(bytes);
        assertThat(FramedDatagrams.chunks(tooNarrow, 1, 5, 1, 9, alloc, chunks::add)).as("255 chunks at most")
                .isFalse();
        assertThat(tooNarrow.refCnt()).isZero();
    }
}
