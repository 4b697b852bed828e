package dev.riscvrelay.relay.wire;

import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_HIGH;
import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_LOW;
import static dev.riscvrelay.relay.wire.GuardedBytes.GUARD;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;

/**
 * Any IPv4 payload a guest sends as UDP: {@link UdpPacket#wrap} never throws, reads only its range, an accepted
 * datagram's data lies inside it, the checksum check reads only the datagram, and a datagram built with
 * {@link UdpPacket#fillChecksum} verifies.
 */
class UdpPacketFuzzTest {

    private static final int SOURCE = 0x0A00_020F;
    private static final int DESTINATION = 0x0A00_0203;

    @FuzzTest(maxDuration = "60s")
    void wrap(byte[] input) {
        assertThat(parse(input, FILL_HIGH)).as("result must not depend on bytes before the datagram")
                .isEqualTo(parse(input, FILL_LOW));
    }

    private static List<Object> parse(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            UdpPacket udp = new UdpPacket();
            ParseResult result = udp.wrap(buf, GUARD, input.length);
            if (input.length < UdpPacket.HEADER_LENGTH) {
                assertThat(result).isEqualTo(ParseResult.TRUNCATED);
                return List.of(result);
            }
            int declared = (input[4] & 0xFF) << 8 | (input[5] & 0xFF);
            boolean fits = declared >= UdpPacket.HEADER_LENGTH && declared <= input.length;
            assertThat(result).isEqualTo(fits ? ParseResult.OK : ParseResult.BAD_LENGTH);
            if (!fits) {
                return List.of(result);
            }
            assertThat(udp.length()).isEqualTo(declared);
            assertThat(udp.dataOffset() + udp.dataLength()).isLessThanOrEqualTo(GUARD + input.length);
            boolean valid = udp.checksumValid(SOURCE, DESTINATION);
            if (!udp.hasChecksum()) {
                assertThat(valid).isTrue();
            }
            checksumReadsBack(udp, buf);
            return List.of(result, udp.sourcePort(), udp.destinationPort(), udp.length(), udp.checksum(), valid);
        } finally {
            buf.release();
        }
    }

    private static void checksumReadsBack(UdpPacket udp, ByteBuf buf) {
        int length = udp.length();
        ByteBuf written = Unpooled.directBuffer(length);
        try {
            written.writeZero(length);
            UdpPacket.writeHeader(written, 0, udp.sourcePort(), udp.destinationPort(), length);
            written.setBytes(UdpPacket.HEADER_LENGTH, buf, udp.dataOffset(), udp.dataLength());
            UdpPacket.fillChecksum(written, 0, length, SOURCE, DESTINATION);
            UdpPacket back = new UdpPacket();
            assertThat(back.wrap(written, 0, length)).isEqualTo(ParseResult.OK);
            assertThat(back.hasChecksum()).as("a computed zero is sent as all ones").isTrue();
            assertThat(back.checksumValid(SOURCE, DESTINATION)).isTrue();
            assertThat(back.checksumValid(SOURCE ^ 1, DESTINATION)).isFalse();
        } finally {
            written.release();
        }
    }
}
