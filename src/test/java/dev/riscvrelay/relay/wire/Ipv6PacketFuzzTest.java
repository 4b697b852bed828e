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
 * Any Ethernet payload a guest sends as IPv6: {@link Ipv6Packet#wrap} never throws, reads only its range, accepts
 * exactly version 6 with a payload inside the bytes present, and a header from {@link Ipv6Packet#writeHeader}
 * reads back the same.
 */
class Ipv6PacketFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void wrap(byte[] input) {
        assertThat(parse(input, FILL_HIGH)).as("result must not depend on bytes before the packet")
                .isEqualTo(parse(input, FILL_LOW));
    }

    private static List<Object> parse(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            Ipv6Packet ip = new Ipv6Packet();
            ParseResult result = ip.wrap(buf, GUARD, input.length);
            if (input.length < Ipv6Packet.HEADER_LENGTH) {
                assertThat(result).isEqualTo(ParseResult.TRUNCATED);
                return List.of(result);
            }
            if ((input[0] >>> 4 & 0x0F) != 6) {
                assertThat(result).isEqualTo(ParseResult.UNSUPPORTED_VERSION);
                return List.of(result);
            }
            int payload = (input[4] & 0xFF) << 8 | (input[5] & 0xFF);
            assertThat(result.ok()).isEqualTo(payload <= input.length - Ipv6Packet.HEADER_LENGTH);
            if (!result.ok()) {
                return List.of(result);
            }
            assertThat(ip.payloadOffset()).isEqualTo(GUARD + Ipv6Packet.HEADER_LENGTH);
            assertThat(ip.payloadOffset() + ip.payloadLength()).isLessThanOrEqualTo(GUARD + input.length);
            writeHeaderReadsBack(ip);
            return List.of(result, ip.payloadLength(), ip.nextHeader(), ip.hopLimit(), ip.sourceHigh(),
                    ip.sourceLow(), ip.destinationHigh(), ip.destinationLow(),
                    ip.pseudoHeaderSum(ip.payloadLength()));
        } finally {
            buf.release();
        }
    }

    private static void writeHeaderReadsBack(Ipv6Packet ip) {
        int length = Ipv6Packet.HEADER_LENGTH + ip.payloadLength();
        ByteBuf written = Unpooled.directBuffer(length, length);
        try {
            written.writeZero(length);
            Ipv6Packet.writeHeader(written, 0, ip.payloadLength(), ip.nextHeader(), ip.hopLimit(), ip.sourceHigh(),
                    ip.sourceLow(), ip.destinationHigh(), ip.destinationLow());
            Ipv6Packet back = new Ipv6Packet();
            assertThat(back.wrap(written, 0, length)).isEqualTo(ParseResult.OK);
            assertThat(List.of(back.payloadLength(), back.nextHeader(), back.hopLimit(), back.sourceHigh(),
                    back.sourceLow(), back.destinationHigh(), back.destinationLow())).isEqualTo(List.of(
                    ip.payloadLength(), ip.nextHeader(), ip.hopLimit(), ip.sourceHigh(), ip.sourceLow(),
                    ip.destinationHigh(), ip.destinationLow()));
        } finally {
            written.release();
        }
    }
}
