package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class UdpPacketTest {

    private final Ipv4Packet ip = new Ipv4Packet();
    private final UdpPacket udp = new UdpPacket();

    @Test
    void capturedDnsQueryReadsPortsAndVerifies() {
        ByteBuf buf = HexFixtures.directBuffer("udp-dns-query-example-com", 3);
        try {
            assertThat(ip.wrap(buf, 3 + 14, buf.readableBytes() - 14)).isEqualTo(ParseResult.OK);
            assertThat(udp.wrap(buf, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(udp.sourcePort()).isEqualTo(40000);
            assertThat(udp.destinationPort()).isEqualTo(53);
            assertThat(udp.length()).isEqualTo(8 + 29);
            assertThat(udp.hasChecksum()).isTrue();
            assertThat(udp.checksumValid(ip.source(), ip.destination())).isTrue();
            assertThat(buf.getUnsignedShort(udp.dataOffset())).as("DNS id").isEqualTo(0xBEEF);
            assertThat(udp.dataLength()).isEqualTo(29);
        } finally {
            buf.release();
        }
    }

    @Test
    void capturedZeroChecksumMeansNone() {
        ByteBuf buf = HexFixtures.directBuffer("udp-checksum-zero", 0);
        try {
            assertThat(ip.wrap(buf, 14, buf.readableBytes() - 14)).isEqualTo(ParseResult.OK);
            assertThat(udp.wrap(buf, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(udp.checksum()).isZero();
            assertThat(udp.hasChecksum()).isFalse();
            assertThat(udp.checksumValid(ip.source(), ip.destination())).isTrue();
            assertThat(buf.toString(udp.dataOffset(), udp.dataLength(), StandardCharsets.US_ASCII))
                    .isEqualTo("no checksum");
        } finally {
            buf.release();
        }
    }

    @Test
    void wrongPseudoHeaderOrFlippedDataFailsTheChecksum() {
        byte[] frame = HexFixtures.bytes("udp-dns-query-example-com");
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        try {
            assertThat(ip.wrap(buf, 14, frame.length - 14)).isEqualTo(ParseResult.OK);
            assertThat(udp.wrap(buf, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(udp.checksumValid(ip.source(), 0x0A000202)).as("pseudo-header is covered").isFalse();
            frame[frame.length - 1] ^= 0x10;
            assertThat(udp.checksumValid(ip.source(), ip.destination())).isFalse();
        } finally {
            buf.release();
        }
    }

    @Test
    void truncatedHeaderAndBadLengthFieldsAreRefused() {
        byte[] frame = HexFixtures.bytes("udp-dns-query-example-com");
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        try {
            for (int length = 0; length < 8; length++) {
                assertThat(udp.wrap(buf, 34, length)).as("length %d", length).isEqualTo(ParseResult.TRUNCATED);
            }
            assertThat(udp.wrap(buf, 34, 36)).as("length field 37 > 36 present").isEqualTo(ParseResult.BAD_LENGTH);
            buf.setShort(34 + 4, 7);
            assertThat(udp.wrap(buf, 34, 37)).as("length field below the header").isEqualTo(ParseResult.BAD_LENGTH);
        } finally {
            buf.release();
        }
    }

    @Test
    void writerReproducesTheCapturedDatagram() {
        byte[] frame = HexFixtures.bytes("udp-dns-query-example-com");
        ByteBuf captured = Unpooled.wrappedBuffer(frame);
        ByteBuf buf = Unpooled.directBuffer(37);
        try {
            int at = UdpPacket.writeHeader(buf, 0, 40000, 53, 37);
            buf.setBytes(at, captured, 34 + 8, 29);
            UdpPacket.fillChecksum(buf, 0, 37, 0x0A00020F, 0x0A000203);
            buf.writerIndex(37);
            assertThat(ByteBufUtil.hexDump(buf)).isEqualTo(ByteBufUtil.hexDump(frame, 34, 37));
        } finally {
            buf.release();
            captured.release();
        }
    }

    @Test
    void aComputedZeroChecksumIsSentAsAllOnes() {
        // Data chosen so the one's complement sum is 0xFFFF: pseudo-header 0.0.0.0 -> 0.0.0.0, protocol 17,
        // length 10 sums to 17 + 10 + 10 (length counted twice); the data word makes the total 0xFFFF.
        ByteBuf buf = Unpooled.directBuffer(10).writeZero(10);
        try {
            UdpPacket.writeHeader(buf, 0, 0, 0, 10);
            buf.setShort(8, 0xFFFF - (17 + 10 + 10));
            UdpPacket.fillChecksum(buf, 0, 10, 0, 0);
            assertThat(buf.getUnsignedShort(6)).isEqualTo(0xFFFF);
            assertThat(udp.wrap(buf, 0, 10)).isEqualTo(ParseResult.OK);
            assertThat(udp.checksumValid(0, 0)).isTrue();
        } finally {
            buf.release();
        }
    }
}
