package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class QuicVarintTest {

    /** The worked examples of RFC 9000 Appendix A.1. */
    @Test
    void decodesTheRfcExamples() {
        assertThat(read("c2197c5eff14e88c")).isEqualTo(151_288_809_941_952_652L);
        assertThat(read("9d7f3e7d")).isEqualTo(494_878_333L);
        assertThat(read("7bbd")).isEqualTo(15_293L);
        assertThat(read("25")).isEqualTo(37L);
        assertThat(read("4025")).isEqualTo(37L); // a non-minimal encoding is still valid
    }

    @Test
    void encodesInTheShortestFormAndRoundTrips() {
        long[] values = {0, 63, 64, 16_383, 16_384, (1L << 30) - 1, 1L << 30, QuicVarint.MAX_VALUE};
        int[] lengths = {1, 1, 2, 2, 4, 4, 8, 8};
        for (int i = 0; i < values.length; i++) {
            ByteBuf buf = Unpooled.buffer();
            try {
                QuicVarint.write(buf, values[i]);
                assertThat(buf.readableBytes()).as("length of %d", values[i]).isEqualTo(lengths[i]);
                assertThat(QuicVarint.read(buf)).isEqualTo(values[i]);
                assertThat(buf.isReadable()).isFalse();
            } finally {
                buf.release();
            }
        }
        ByteBuf buf = Unpooled.buffer();
        try {
            QuicVarint.write(buf, 151_288_809_941_952_652L);
            assertThat(ByteBufUtil.hexDump(buf)).isEqualTo("c2197c5eff14e88c");
        } finally {
            buf.release();
        }
    }

    @Test
    void truncatedInputIsIncompleteAndConsumesNothing() {
        ByteBuf buf = Unpooled.wrappedBuffer(new byte[] {(byte) 0x9d, 0x7f, 0x3e});
        try {
            assertThat(QuicVarint.read(buf)).isEqualTo(QuicVarint.INCOMPLETE);
            assertThat(buf.readerIndex()).isZero();
            assertThat(QuicVarint.read(Unpooled.EMPTY_BUFFER)).isEqualTo(QuicVarint.INCOMPLETE);
        } finally {
            buf.release();
        }
    }

    @Test
    void setWritesAFixedWidthEncoding() {
        ByteBuf buf = Unpooled.buffer(8).writeZero(8);
        try {
            QuicVarint.set(buf, 0, 5, 2);
            assertThat(QuicVarint.get(buf, 0, 8)).isEqualTo(5);
            assertThat(QuicVarint.lengthOfFirstByte(buf.getByte(0))).isEqualTo(2);
            assertThatThrownBy(() -> QuicVarint.set(buf, 0, 64, 1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> QuicVarint.encodedLength(-1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> QuicVarint.encodedLength(1L << 62)).isInstanceOf(IllegalArgumentException.class);
        } finally {
            buf.release();
        }
    }

    private static long read(String hex) {
        ByteBuf buf = Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hex));
        try {
            long value = QuicVarint.read(buf);
            assertThat(buf.isReadable()).isFalse();
            return value;
        } finally {
            buf.release();
        }
    }
}
