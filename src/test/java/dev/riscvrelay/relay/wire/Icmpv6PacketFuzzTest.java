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
 * Any ICMPv6 message between any two addresses (the first 32 input bytes, the rest is the message):
 * {@link Icmpv6Packet#wrap} never throws, reads only its range, and accepts exactly the messages with a header
 * whose checksum over the pseudo-header verifies; a message checksummed by {@link Icmpv6Packet#fillChecksum}
 * is accepted.
 */
class Icmpv6PacketFuzzTest {

    private static final int ADDRESSES = 32;

    @FuzzTest(maxDuration = "60s")
    void wrap(byte[] input) {
        if (input.length < ADDRESSES) {
            return;
        }
        assertThat(parse(input, FILL_HIGH)).as("result must not depend on bytes before the message")
                .isEqualTo(parse(input, FILL_LOW));
    }

    private static List<Object> parse(byte[] input, int fill) {
        ByteBuf addresses = Unpooled.wrappedBuffer(input, 0, ADDRESSES);
        long[] from = {addresses.getLong(0), addresses.getLong(8)};
        long[] to = {addresses.getLong(16), addresses.getLong(24)};
        int length = input.length - ADDRESSES;
        long pseudo = Checksums.pseudoHeaderSum6(from[0], from[1], to[0], to[1], Ipv6Packet.NEXT_HEADER_ICMPV6, length);
        ByteBuf buf = GuardedBytes.guarded(input, ADDRESSES, length, fill);
        try {
            Icmpv6Packet icmp = new Icmpv6Packet();
            ParseResult result = icmp.wrap(buf, GUARD, length, pseudo);
            if (length < Icmpv6Packet.HEADER_LENGTH) {
                assertThat(result).isEqualTo(ParseResult.TRUNCATED);
                return List.of(result);
            }
            assertThat(result).isIn(ParseResult.OK, ParseResult.BAD_CHECKSUM);
            checksummedIsAccepted(buf, length, from, to, pseudo);
            if (!result.ok()) {
                return List.of(result);
            }
            assertThat(icmp.bodyOffset() + icmp.bodyLength()).isEqualTo(GUARD + length);
            return icmp.hasEchoHeader()
                    ? List.of(result, icmp.type(), icmp.code(), icmp.checksum(), icmp.identifier(),
                            icmp.sequenceNumber())
                    : List.of(result, icmp.type(), icmp.code(), icmp.checksum());
        } finally {
            buf.release();
        }
    }

    private static void checksummedIsAccepted(ByteBuf buf, int length, long[] from, long[] to, long pseudo) {
        ByteBuf copy = Unpooled.directBuffer(length, length);
        try {
            copy.writeBytes(buf, GUARD, length);
            copy.setShort(2, 0);
            Icmpv6Packet.fillChecksum(copy, 0, length, from[0], from[1], to[0], to[1]);
            assertThat(new Icmpv6Packet().wrap(copy, 0, length, pseudo)).isEqualTo(ParseResult.OK);
        } finally {
            copy.release();
        }
    }
}
