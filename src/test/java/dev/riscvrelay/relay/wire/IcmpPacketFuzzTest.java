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
 * Any IPv4 payload a guest sends as ICMP: {@link IcmpPacket#wrap} never throws, reads only its range, accepts
 * exactly the messages with a header and a verifying checksum, and an echo built from its fields verifies.
 */
class IcmpPacketFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void wrap(byte[] input) {
        assertThat(parse(input, FILL_HIGH)).as("result must not depend on bytes before the message")
                .isEqualTo(parse(input, FILL_LOW));
    }

    private static List<Object> parse(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            IcmpPacket icmp = new IcmpPacket();
            ParseResult result = icmp.wrap(buf, GUARD, input.length);
            if (input.length < IcmpPacket.HEADER_LENGTH) {
                assertThat(result).isEqualTo(ParseResult.TRUNCATED);
                return List.of(result);
            }
            assertThat(result).isIn(ParseResult.OK, ParseResult.BAD_CHECKSUM);
            if (!result.ok()) {
                return List.of(result);
            }
            assertThat(icmp.dataOffset()).isEqualTo(GUARD + IcmpPacket.HEADER_LENGTH);
            assertThat(icmp.dataOffset() + icmp.dataLength()).isEqualTo(GUARD + input.length);
            echoReadsBack(icmp, buf);
            return List.of(result, icmp.type(), icmp.code(), icmp.checksum(), icmp.identifier(),
                    icmp.sequenceNumber(), icmp.length());
        } finally {
            buf.release();
        }
    }

    private static void echoReadsBack(IcmpPacket icmp, ByteBuf buf) {
        int length = icmp.length();
        ByteBuf written = Unpooled.directBuffer(length);
        try {
            written.writeZero(length);
            IcmpPacket.writeEchoHeader(written, 0, IcmpPacket.TYPE_ECHO_REPLY, icmp.identifier(),
                    icmp.sequenceNumber());
            written.setBytes(IcmpPacket.HEADER_LENGTH, buf, icmp.dataOffset(), icmp.dataLength());
            IcmpPacket.fillChecksum(written, 0, length);
            IcmpPacket back = new IcmpPacket();
            assertThat(back.wrap(written, 0, length)).isEqualTo(ParseResult.OK);
            assertThat(List.of(back.type(), back.code(), back.identifier(), back.sequenceNumber()))
                    .isEqualTo(List.of(IcmpPacket.TYPE_ECHO_REPLY, 0, icmp.identifier(), icmp.sequenceNumber()));
        } finally {
            written.release();
        }
    }
}
