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
 * Any Ethernet payload a guest sends as IPv4: {@link Ipv4Packet#wrap} never throws, reads only its range, and an
 * accepted packet's header and payload lie inside it with a verified checksum. The in-place rewrites NAT uses
 * (TTL, addresses) keep the checksum valid, and a header from {@link Ipv4Packet#writeHeader} reads back the same.
 */
class Ipv4PacketFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void wrap(byte[] input) {
        assertThat(parse(input, FILL_HIGH)).as("result must not depend on bytes before the packet")
                .isEqualTo(parse(input, FILL_LOW));
    }

    private static List<Object> parse(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            Ipv4Packet ip = new Ipv4Packet();
            ParseResult result = ip.wrap(buf, GUARD, input.length);
            if (!result.ok()) {
                return List.of(result);
            }
            int end = GUARD + input.length;
            assertThat(input.length).isGreaterThanOrEqualTo(Ipv4Packet.MIN_HEADER_LENGTH);
            assertThat(input[0] >>> 4 & 0x0F).isEqualTo(4);
            assertThat(ip.headerLength()).isBetween(Ipv4Packet.MIN_HEADER_LENGTH, Ipv4Packet.MAX_HEADER_LENGTH);
            assertThat(ip.totalLength()).isBetween(ip.headerLength(), input.length);
            assertThat(ip.payloadOffset()).isEqualTo(GUARD + ip.headerLength());
            assertThat(ip.payloadOffset() + ip.payloadLength()).isLessThanOrEqualTo(end);
            assertThat(ip.optionsLength()).isBetween(0, 40);
            assertThat(Checksums.verifies(buf, GUARD, ip.headerLength())).isTrue();
            List<Object> fields = List.of(result, ip.headerLength(), ip.totalLength(), ip.dscpEcn(),
                    ip.identification(), ip.dontFragment(), ip.moreFragments(), ip.fragmentOffset(), ip.isFragment(),
                    ip.ttl(), ip.protocol(), ip.headerChecksum(), ip.source(), ip.destination());
            assertThat(ip.fragmentOffset()).isBetween(0, 0x1FFF * 8);
            assertThat(ip.isFragment()).isEqualTo(ip.moreFragments() || ip.fragmentOffset() != 0);

            rewriteKeepsChecksum(ip, buf);
            writeHeaderReadsBack(ip);
            return fields;
        } finally {
            buf.release();
        }
    }

    /** RFC 1624 updates, applied to the accepted packet itself (its fields were read before). */
    private static void rewriteKeepsChecksum(Ipv4Packet ip, ByteBuf buf) {
        int ttl = ip.ttl();
        int source = ip.source();
        int destination = ip.destination();
        ip.setTtl(ttl == 0 ? 255 : ttl - 1);
        ip.setSource(~source);
        ip.setDestination(destination ^ 0x0A00_0202);
        int length = ip.totalLength();
        Ipv4Packet again = new Ipv4Packet();
        assertThat(again.wrap(buf, GUARD, length)).as("checksum after in-place rewrites").isEqualTo(ParseResult.OK);
        assertThat(again.ttl()).isEqualTo(ttl == 0 ? 255 : ttl - 1);
        assertThat(again.source()).isEqualTo(~source);
        assertThat(again.destination()).isEqualTo(destination ^ 0x0A00_0202);
    }

    private static void writeHeaderReadsBack(Ipv4Packet ip) {
        int total = Math.max(ip.totalLength() - ip.optionsLength(), Ipv4Packet.MIN_HEADER_LENGTH);
        ByteBuf written = Unpooled.buffer(total);
        try {
            written.writeZero(total);
            Ipv4Packet.writeHeader(written, 0, total, ip.identification(), ip.dontFragment(), ip.ttl(),
                    ip.protocol(), ip.source(), ip.destination());
            Ipv4Packet back = new Ipv4Packet();
            assertThat(back.wrap(written, 0, total)).isEqualTo(ParseResult.OK);
            assertThat(List.of(back.headerLength(), back.totalLength(), back.identification(), back.dontFragment(),
                    back.isFragment(), back.ttl(), back.protocol(), back.source(), back.destination()))
                    .isEqualTo(List.of(Ipv4Packet.MIN_HEADER_LENGTH, total, ip.identification(), ip.dontFragment(),
                            false, ip.ttl(), ip.protocol(), ip.source(), ip.destination()));
        } finally {
            written.release();
        }
    }
}
