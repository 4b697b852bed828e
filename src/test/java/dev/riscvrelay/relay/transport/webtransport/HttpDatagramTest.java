package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class HttpDatagramTest {

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    @Test
    void readsTheQuarterStreamIdPrefix() {
        // Stream 4 (the second client bidirectional stream) has quarter stream id 1.
        ByteBuf datagram = Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump("01aabb"));
        try {
            assertThat(HttpDatagram.quarterStreamId(datagram)).isEqualTo(1);
            assertThat(HttpDatagram.prefixLength(datagram)).isEqualTo(1);
            assertThat(datagram.readerIndex()).isZero();
        } finally {
            datagram.release();
        }
        assertThat(HttpDatagram.quarterStreamIdOf(4)).isEqualTo(1);
    }

    @Test
    void rejectsEmptyAndTruncatedPrefixes() {
        assertThat(HttpDatagram.quarterStreamId(Unpooled.EMPTY_BUFFER)).isEqualTo(HttpDatagram.BAD_PREFIX);
        ByteBuf truncated = Unpooled.wrappedBuffer(new byte[] {(byte) 0x40});
        ByteBuf tooLarge = Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump("ffffffffffffffff"));
        try {
            assertThat(HttpDatagram.quarterStreamId(truncated)).isEqualTo(HttpDatagram.BAD_PREFIX);
            assertThat(HttpDatagram.quarterStreamId(tooLarge)).isEqualTo(HttpDatagram.BAD_PREFIX);
        } finally {
            truncated.release();
            tooLarge.release();
        }
    }

    @Test
    void writesThePrefixIntoHeadroomWithoutCopying() {
        ByteBuf frame = alloc.directBuffer(64);
        frame.writerIndex(HttpDatagram.HEADROOM).readerIndex(HttpDatagram.HEADROOM);
        frame.writeBytes(new byte[] {1, 2, 3});
        assertThat(HttpDatagram.hasHeadroom(frame, 2)).isTrue();
        ByteBuf datagram = HttpDatagram.encode(frame, 100, 2, alloc);
        try {
            assertThat(datagram).isSameAs(frame);
            assertThat(ByteBufUtil.hexDump(datagram)).isEqualTo("4064010203");
        } finally {
            datagram.release();
        }
    }

    @Test
    void copiesAFrameThatIsSharedOrHasNoHeadroom() {
        ByteBuf frame = alloc.directBuffer(16).writeBytes(new byte[] {1, 2, 3});
        ByteBuf shared = alloc.directBuffer(16).writerIndex(8).readerIndex(8).writeBytes(new byte[] {4, 5});
        shared.retain(); // a second receiver of a flood holds it too
        ByteBuf datagram = HttpDatagram.encode(frame, 0, 1, alloc);
        ByteBuf second = HttpDatagram.encode(shared, 0, 1, alloc);
        try {
            assertThat(datagram).isNotSameAs(frame);
            assertThat(frame.refCnt()).isZero();
            assertThat(datagram.isDirect()).isTrue();
            assertThat(ByteBufUtil.hexDump(datagram)).isEqualTo("00010203");
            assertThat(second).isNotSameAs(shared);
            assertThat(shared.refCnt()).isEqualTo(1);
            assertThat(ByteBufUtil.hexDump(shared)).isEqualTo("0405"); // untouched for the other receiver
        } finally {
            datagram.release();
            second.release();
            shared.release();
        }
    }
}
