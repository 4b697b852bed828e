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
}
