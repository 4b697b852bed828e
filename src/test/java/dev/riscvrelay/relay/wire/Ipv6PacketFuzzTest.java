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
 * reads back the same; {@link Ipv6Packet#walkExtensionHeaders()} stays inside the payload and ends on no extension
 * header (but a later fragment's), whatever the chain says.
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
            List<Object> chain = walk(ip);
            assertThat(chain).as("the walk must not read the padding after the payload")
                    .isEqualTo(walkAlone(input, Ipv6Packet.HEADER_LENGTH + ip.payloadLength(), fill));
            return List.of(result, chain, ip.payloadLength(), ip.nextHeader(), ip.hopLimit(), ip.sourceHigh(),
                    ip.sourceLow(), ip.destinationHigh(), ip.destinationLow(),
                    ip.pseudoHeaderSum(ip.payloadLength()));
        } finally {
            buf.release();
        }
    }

    /** What {@link Ipv6Packet#walkExtensionHeaders()} finds, offsets relative to the packet; inside the payload. */
    private static List<Object> walk(Ipv6Packet ip) {
        ParseResult chain = ip.walkExtensionHeaders();
        if (!chain.ok()) {
            assertThat(chain).isEqualTo(ParseResult.BAD_EXTENSION_CHAIN);
            return List.of(chain);
        }
        assertThat(ip.upperLayerOffset()).isBetween(ip.payloadOffset(), ip.payloadOffset() + ip.payloadLength());
        assertThat(ip.upperLayerLength()).isGreaterThanOrEqualTo(0);
        assertThat(Ipv6Packet.isExtensionHeader(ip.upperLayer()) && !ip.laterFragment()).isFalse();
        assertThat(ip.laterFragment() && !ip.fragment()).isFalse();
        return List.of(chain, ip.upperLayer(), ip.upperLayerOffset() - ip.offset(), ip.fragment(),
                ip.laterFragment());
    }

    /** The walk over only the first {@code length} bytes of {@code input}, in a buffer that ends there. */
    private static List<Object> walkAlone(byte[] input, int length, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, 0, length, fill);
        try {
            Ipv6Packet ip = new Ipv6Packet();
            assertThat(ip.wrap(buf, GUARD, length)).isEqualTo(ParseResult.OK);
            return walk(ip);
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
