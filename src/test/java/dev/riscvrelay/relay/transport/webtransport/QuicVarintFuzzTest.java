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
import java.util.ArrayList;
import java.util.List;

/**
 * Any bytes a client sends where a QUIC varint is expected (RFC 9000 §16): reading never throws, reads only up to
 * its limit, reports {@link QuicVarint#INCOMPLETE} exactly when the encoding runs past it, and a value written back
 * in the same length (or its shortest one) reads back the same.
 */
class QuicVarintFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void read(byte[] input) {
        List<Long> low = readAll(input, FILL_LOW);
        assertThat(readAll(input, FILL_HIGH)).as("result must not depend on bytes before the input").isEqualTo(low);
    }

    private static List<Long> readAll(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            List<Long> values = new ArrayList<>();
            int limit = GUARD + input.length;
            while (true) {
                int index = buf.readerIndex();
                long peeked = QuicVarint.get(buf, index, limit);
                long value = QuicVarint.read(buf);
                assertThat(value).isEqualTo(peeked);
                values.add(value);
                if (value == QuicVarint.INCOMPLETE) {
                    assertThat(buf.readerIndex()).as("nothing consumed").isEqualTo(index);
                    int length = index < limit ? QuicVarint.lengthOfFirstByte(input[index - GUARD]) : 1;
                    assertThat(limit - index).isLessThan(length);
                    return values;
                }
                int length = QuicVarint.lengthOfFirstByte(buf.getByte(index));
                assertThat(buf.readerIndex()).isEqualTo(index + length);
                assertThat(value).isBetween(0L, QuicVarint.MAX_VALUE).isEqualTo(decode(input, index - GUARD, length));
                assertThat(QuicVarint.encodedLength(value)).isLessThanOrEqualTo(length);
                writesBack(value, length, ByteBufUtil.getBytes(buf, index, length));
            }
        } finally {
            buf.release();
        }
    }

    private static long decode(byte[] bytes, int at, int length) {
        long value = bytes[at] & 0x3F;
        for (int i = 1; i < length; i++) {
            value = value << 8 | (bytes[at + i] & 0xFF);
        }
        return value;
    }

    private static void writesBack(long value, int length, byte[] original) {
        ByteBuf out = Unpooled.buffer(16);
        try {
            QuicVarint.set(out, 0, value, length);
            assertThat(ByteBufUtil.getBytes(out, 0, length)).isEqualTo(original);
            out.writerIndex(length);
            QuicVarint.write(out, value);
            assertThat(out.readableBytes()).isEqualTo(length + QuicVarint.encodedLength(value));
            assertThat(QuicVarint.read(out)).isEqualTo(value);
            assertThat(QuicVarint.read(out)).isEqualTo(value);
            assertThat(out.isReadable()).isFalse();
        } finally {
            out.release();
        }
    }
}
