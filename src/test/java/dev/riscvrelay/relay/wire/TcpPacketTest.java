package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TcpPacketTest {

    private static final int VM = Ipv4Address.parse("10.0.2.15");
    private static final int HOST = Ipv4Address.parse("203.0.113.10");

    private final Ipv4Packet ip = new Ipv4Packet();
    private final TcpPacket tcp = new TcpPacket();

    private void wrapCaptured(ByteBuf buf, int lead) {
        assertThat(ip.wrap(buf, lead + 14, buf.readableBytes() - 14)).isEqualTo(ParseResult.OK);
        assertThat(tcp.wrap(buf, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
    }

    @Test
    void capturedLinuxSynReadsEveryOption() {
        ByteBuf buf = HexFixtures.directBuffer("tcp-syn-linux-mss-sack-ts-wscale", 5);
        try {
            wrapCaptured(buf, 5);
            assertThat(tcp.checksumValid(ip.source(), ip.destination())).isTrue();
            assertThat(tcp.sourcePort()).isEqualTo(40000);
            assertThat(tcp.destinationPort()).isEqualTo(8080);
            assertThat(tcp.sequenceNumber()).isEqualTo(0x8971CA69);
            assertThat(tcp.flags()).isEqualTo(TcpPacket.FLAG_SYN);
            assertThat(tcp.isSyn()).isTrue();
            assertThat(tcp.isAck()).isFalse();
            assertThat(tcp.window()).isEqualTo(0xFFD7);
            assertThat(tcp.headerLength()).isEqualTo(40);
            assertThat(tcp.dataLength()).isZero();
            assertThat(tcp.sequenceLength()).isEqualTo(1);
            assertThat(tcp.parseOptions()).isEqualTo(ParseResult.OK);
            assertThat(tcp.mss()).isEqualTo(65495);
            assertThat(tcp.sackPermitted()).isTrue();
            assertThat(tcp.hasTimestamps()).isTrue();
            assertThat(tcp.timestampValue()).isEqualTo(0xD495735B);
            assertThat(tcp.timestampEcho()).isZero();
            assertThat(tcp.windowScale()).isEqualTo(10);
            assertThat(tcp.sackBlockCount()).isZero();
        } finally {
            buf.release();
        }
    }

    @Test
    void capturedDataSegmentCarriesItsPayload() {
        ByteBuf buf = HexFixtures.directBuffer("tcp-data-linux-hello", 0);
        try {
            wrapCaptured(buf, 0);
            assertThat(tcp.checksumValid(ip.source(), ip.destination())).isTrue();
            assertThat(tcp.flags()).isEqualTo(TcpPacket.FLAG_PSH | TcpPacket.FLAG_ACK);
            assertThat(tcp.acknowledgementNumber()).isEqualTo(0xBFB5C131);
            assertThat(tcp.window()).isEqualTo(0x40);
            assertThat(tcp.buffer().toString(tcp.dataOffset(), tcp.dataLength(), StandardCharsets.US_ASCII))
                    .isEqualTo("hello tcp");
            assertThat(tcp.sequenceLength()).isEqualTo(9);
            assertThat(tcp.parseOptions()).isEqualTo(ParseResult.OK);
            assertThat(tcp.mss()).isEqualTo(-1);
            assertThat(tcp.windowScale()).isEqualTo(-1);
            assertThat(tcp.hasTimestamps()).isTrue();
        } finally {
            buf.release();
        }
    }

    @Test
    void flippedDataOrWrongPseudoHeaderFailsTheChecksum() {
        byte[] frame = HexFixtures.bytes("tcp-data-linux-hello");
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        wrapCaptured(buf, 0);
        assertThat(tcp.checksumValid(ip.source(), HOST + 1)).isFalse();
        frame[frame.length - 2] ^= 0x01;
        assertThat(tcp.checksumValid(ip.source(), ip.destination())).isFalse();
    }

    @Test
    void dataOffsetBelowFiveWordsOrPastTheSegmentIsRejected() {
        byte[] frame = HexFixtures.bytes("tcp-data-linux-hello");
        int dataOffsetIndex = 14 + 20 + 12;
        frame[dataOffsetIndex] = 0x40;
        assertThat(tcp.wrap(Unpooled.wrappedBuffer(frame), 34, frame.length - 34))
                .isEqualTo(ParseResult.BAD_DATA_OFFSET);
        frame[dataOffsetIndex] = (byte) 0xF0; // 60 bytes of header in a 41-byte segment
        assertThat(tcp.wrap(Unpooled.wrappedBuffer(frame), 34, frame.length - 34))
                .isEqualTo(ParseResult.BAD_DATA_OFFSET);
        assertThat(tcp.wrap(Unpooled.wrappedBuffer(frame), 34, 19)).isEqualTo(ParseResult.TRUNCATED);
    }

    @Test
    void optionLengthsThatCannotBeAreRejected() {
        byte[] frame = HexFixtures.bytes("tcp-syn-linux-mss-sack-ts-wscale");
        int options = 14 + 20 + 20;
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        frame[options + 1] = 0; // MSS option of length 0 would loop forever if not rejected
        tcp.wrap(buf, 34, frame.length - 34);
        assertThat(tcp.parseOptions()).isEqualTo(ParseResult.BAD_OPTION);
        frame[options + 1] = 30; // runs past the header
        assertThat(tcp.parseOptions()).isEqualTo(ParseResult.BAD_OPTION);
        frame[options + 1] = 3; // MSS must be 4 long
        assertThat(tcp.parseOptions()).isEqualTo(ParseResult.BAD_OPTION);
    }

    @Test
    void writtenSegmentWithOptionsParsesBackAndVerifies() {
        int[] left = {1000, 5000};
        int[] right = {2000, 6000};
        int headerLength = 20 + 4 + 4 + 12 + 4 + 16; // 60, the most a header holds
        byte[] data = "payload".getBytes(StandardCharsets.US_ASCII);
        ByteBuf buf = Unpooled.directBuffer(3 + headerLength + data.length);
        try {
            buf.writerIndex(3 + headerLength + data.length);
            int at = 3;
            at += TcpPacket.writeHeader(buf, at, 8080, 40000, 0x7FFFFFFF, 0x80000001, headerLength,
                    TcpPacket.FLAG_ACK | TcpPacket.FLAG_PSH, 1234);
            at += TcpPacket.writeMssOption(buf, at, 1460);
            at += TcpPacket.writeWindowScaleOption(buf, at, 7);
            at += TcpPacket.writeTimestampsOption(buf, at, 42, 43);
            at += TcpPacket.writeSackOption(buf, at, left, right, 2);
            assertThat(at).isEqualTo(3 + headerLength);
            buf.setBytes(at, data);
            TcpPacket.fillChecksum(buf, 3, headerLength + data.length, HOST, VM);

            assertThat(tcp.wrap(buf, 3, headerLength + data.length)).isEqualTo(ParseResult.OK);
            assertThat(tcp.checksumValid(HOST, VM)).isTrue();
            assertThat(tcp.sequenceNumber()).isEqualTo(0x7FFFFFFF);
            assertThat(tcp.acknowledgementNumber()).isEqualTo(0x80000001);
            assertThat(tcp.window()).isEqualTo(1234);
            assertThat(tcp.parseOptions()).isEqualTo(ParseResult.OK);
            assertThat(tcp.mss()).isEqualTo(1460);
            assertThat(tcp.windowScale()).isEqualTo(7);
            assertThat(tcp.sackPermitted()).isFalse();
            assertThat(tcp.timestampValue()).isEqualTo(42);
            assertThat(tcp.timestampEcho()).isEqualTo(43);
            assertThat(tcp.sackBlockCount()).isEqualTo(2);
            assertThat(tcp.sackLeft(1)).isEqualTo(5000);
            assertThat(tcp.sackRight(1)).isEqualTo(6000);
            assertThat(tcp.dataLength()).isEqualTo(data.length);
        } finally {
            buf.release();
        }
    }

    @Test
    void sackPermittedOptionParsesBack() {
        ByteBuf buf = Unpooled.buffer(24);
        buf.writerIndex(24);
        TcpPacket.writeHeader(buf, 0, 1, 2, 0, 0, 24, TcpPacket.FLAG_SYN, 0);
        TcpPacket.writeSackPermittedOption(buf, 20);
        assertThat(tcp.wrap(buf, 0, 24)).isEqualTo(ParseResult.OK);
        assertThat(tcp.parseOptions()).isEqualTo(ParseResult.OK);
        assertThat(tcp.sackPermitted()).isTrue();
    }

    @Test
    void windowScaleAboveFourteenIsCapped() {
        byte[] frame = HexFixtures.bytes("tcp-syn-linux-mss-sack-ts-wscale");
        frame[frame.length - 1] = 20;
        tcp.wrap(Unpooled.wrappedBuffer(frame), 34, frame.length - 34);
        assertThat(tcp.parseOptions()).isEqualTo(ParseResult.OK);
        assertThat(tcp.windowScale()).isEqualTo(TcpPacket.MAX_WINDOW_SCALE);
    }
}
