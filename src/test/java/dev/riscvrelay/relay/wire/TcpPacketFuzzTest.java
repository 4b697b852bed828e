package dev.riscvrelay.relay.wire;

import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_HIGH;
import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_LOW;
import static dev.riscvrelay.relay.wire.GuardedBytes.GUARD;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;

/**
 * Any IPv4 payload a guest sends as TCP: {@link TcpPacket#wrap} and {@link TcpPacket#parseOptions} never throw and
 * read only the segment, an accepted segment's header and data lie inside it, parsed options keep their bounds, and
 * a segment given a checksum by {@link TcpPacket#fillChecksum} (over a zeroed checksum field) verifies.
 */
class TcpPacketFuzzTest {

    private static final int SOURCE = 0x0A00_020F;
    private static final int DESTINATION = 0xCB00_710A;

    @FuzzTest(maxDuration = "60s")
    void wrap(byte[] input) {
        assertThat(parse(input, FILL_HIGH)).as("result must not depend on bytes before the segment")
                .isEqualTo(parse(input, FILL_LOW));
    }

    private static List<Object> parse(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            TcpPacket tcp = new TcpPacket();
            ParseResult result = tcp.wrap(buf, GUARD, input.length);
            if (input.length < TcpPacket.MIN_HEADER_LENGTH) {
                assertThat(result).isEqualTo(ParseResult.TRUNCATED);
                return List.of(result);
            }
            int dataOffset = ((input[12] & 0xFF) >>> 4) * 4;
            boolean fits = dataOffset >= TcpPacket.MIN_HEADER_LENGTH && dataOffset <= input.length;
            assertThat(result).isEqualTo(fits ? ParseResult.OK : ParseResult.BAD_DATA_OFFSET);
            if (!fits) {
                return List.of(result);
            }
            assertThat(tcp.headerLength()).isEqualTo(dataOffset);
            assertThat(tcp.dataOffset() + tcp.dataLength()).isEqualTo(GUARD + input.length);
            List<Object> seen = new ArrayList<>(List.of(result, tcp.sourcePort(), tcp.destinationPort(),
                    tcp.sequenceNumber(), tcp.acknowledgementNumber(), tcp.flags(), tcp.window(),
                    tcp.checksumValid(SOURCE, DESTINATION)));
            ParseResult options = tcp.parseOptions();
            assertThat(options).isIn(ParseResult.OK, ParseResult.BAD_OPTION);
            seen.add(options);
            if (options == ParseResult.OK) {
                assertThat(tcp.windowScale()).isBetween(-1, TcpPacket.MAX_WINDOW_SCALE);
                assertThat(tcp.mss()).isBetween(-1, 0xFFFF);
                assertThat(tcp.sackBlockCount()).isBetween(0, TcpPacket.MAX_SACK_BLOCKS);
                seen.addAll(List.of(tcp.mss(), tcp.windowScale(), tcp.sackPermitted(), tcp.hasTimestamps(),
                        tcp.sackBlockCount()));
            }
            checksumReadsBack(tcp, buf);
            return seen;
        } finally {
            buf.release();
        }
    }

    /** The same segment copied out and given a computed checksum verifies; another source address does not. */
    private static void checksumReadsBack(TcpPacket tcp, ByteBuf buf) {
        int length = tcp.length();
        ByteBuf written = Unpooled.directBuffer(length);
        try {
            written.writeBytes(buf, tcp.offset(), length);
            written.setShort(16, 0); // fillChecksum sums a segment whose checksum field is zero, as writeHeader leaves it
            TcpPacket.fillChecksum(written, 0, length, SOURCE, DESTINATION);
            TcpPacket back = new TcpPacket();
            assertThat(back.wrap(written, 0, length)).isEqualTo(ParseResult.OK);
            assertThat(back.checksumValid(SOURCE, DESTINATION)).isTrue();
            assertThat(back.checksumValid(SOURCE ^ 1, DESTINATION)).isFalse();
        } finally {
            written.release();
        }
    }
}
