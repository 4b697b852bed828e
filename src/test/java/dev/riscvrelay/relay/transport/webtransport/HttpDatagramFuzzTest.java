package dev.riscvrelay.relay.transport.webtransport;

import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_HIGH;
import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_LOW;
import static dev.riscvrelay.relay.wire.GuardedBytes.GUARD;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.riscvrelay.relay.wire.GuardedBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.List;

/**
 * Any QUIC DATAGRAM payload a client sends (RFC 9297 §2.1): the Quarter Stream ID prefix is read without throwing
 * and only inside the datagram, a valid one leaves the frame after it, and the frame sent back with a prefix (in
 * its headroom, or copied when it has none or is shared) carries the same id and bytes, with exact references.
 */
class HttpDatagramFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void prefix(byte[] input) {
        List<Object> low = parse(input, FILL_LOW);
        assertThat(parse(input, FILL_HIGH)).as("result must not depend on bytes before the datagram").isEqualTo(low);
    }

    private static List<Object> parse(byte[] input, int fill) {
        ByteBuf datagram = GuardedBytes.guarded(input, fill);
        try {
            long id = HttpDatagram.quarterStreamId(datagram);
            assertThat(datagram.readerIndex()).as("moves nothing").isEqualTo(GUARD);
            if (id == HttpDatagram.BAD_PREFIX) {
                boolean incomplete = input.length == 0 || input.length < QuicVarint.lengthOfFirstByte(input[0]);
                assertThat(incomplete || QuicVarint.get(datagram, GUARD, GUARD + input.length)
                        > HttpDatagram.MAX_QUARTER_STREAM_ID).isTrue();
                return List.of(id);
            }
            assertThat(id).isBetween(0L, HttpDatagram.MAX_QUARTER_STREAM_ID);
            int prefixLength = HttpDatagram.prefixLength(datagram);
            assertThat(prefixLength).isBetween(1, input.length);
            datagram.skipBytes(prefixLength);
            byte[] frame = ByteBufUtil.getBytes(datagram);
            encodesBack(id, frame);
            return List.of(id, prefixLength, datagram.readableBytes());
        } finally {
            datagram.release();
        }
    }

    private static void encodesBack(long id, byte[] frame) {
        int prefixLength = QuicVarint.encodedLength(id);
        // In place: a direct buffer held once, with headroom.
        ByteBuf owned = Unpooled.directBuffer(HttpDatagram.HEADROOM + frame.length);
        owned.writerIndex(HttpDatagram.HEADROOM).readerIndex(HttpDatagram.HEADROOM).writeBytes(frame);
        ByteBuf inPlace = HttpDatagram.encode(owned, id, prefixLength, UnpooledByteBufAllocator.DEFAULT);
        assertThat(inPlace).isSameAs(owned);
        checkAndRelease(inPlace, id, prefixLength, frame);

        // Copied: the same frame shared with another receiver must stay untouched.
        ByteBuf shared = Unpooled.directBuffer(HttpDatagram.HEADROOM + frame.length);
        shared.writerIndex(HttpDatagram.HEADROOM).readerIndex(HttpDatagram.HEADROOM).writeBytes(frame);
        ByteBuf other = shared.retainedDuplicate();
        ByteBuf copy = HttpDatagram.encode(shared, id, QuicVarint.MAX_LENGTH, UnpooledByteBufAllocator.DEFAULT);
        assertThat(copy).isNotSameAs(shared);
        assertThat(other.refCnt()).as("encode released its reference only").isEqualTo(1);
        assertThat(ByteBufUtil.getBytes(other)).isEqualTo(frame);
        assertThat(other.release()).isTrue();
        checkAndRelease(copy, id, QuicVarint.MAX_LENGTH, frame);
    }

    private static void checkAndRelease(ByteBuf datagram, long id, int prefixLength, byte[] frame) {
        try {
            assertThat(HttpDatagram.quarterStreamId(datagram)).isEqualTo(id);
            assertThat(HttpDatagram.prefixLength(datagram)).isEqualTo(prefixLength);
            assertThat(ByteBufUtil.getBytes(datagram, datagram.readerIndex() + prefixLength,
                    datagram.readableBytes() - prefixLength)).isEqualTo(frame);
        } finally {
            assertThat(datagram.release()).isTrue();
        }
    }
}
