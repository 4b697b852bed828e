package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class Ipv4PacketTest {

    private static final int GUEST = 0x0A00020F;
    private static final int GATEWAY = 0x0A000202;

    private final Ipv4Packet ip = new Ipv4Packet();

    @Test
    void capturedEchoRequestReadsEveryField() {
        ByteBuf buf = HexFixtures.directBuffer("icmp-echo-request-payload-56", 9);
        try {
            int at = 9 + 14;
            assertThat(ip.wrap(buf, at, 84)).isEqualTo(ParseResult.OK);
            assertThat(ip.headerLength()).isEqualTo(20);
            assertThat(ip.optionsLength()).isZero();
            assertThat(ip.totalLength()).isEqualTo(84);
            assertThat(ip.identification()).isEqualTo(buf.getUnsignedShort(at + 4));
            assertThat(ip.dontFragment()).isTrue();
            assertThat(ip.isFragment()).isFalse();
            assertThat(ip.ttl()).isEqualTo(64);
            assertThat(ip.protocol()).isEqualTo(Ipv4Packet.PROTOCOL_ICMP);
            assertThat(ip.source()).isEqualTo(GUEST);
            assertThat(ip.destination()).isEqualTo(GATEWAY);
            assertThat(ip.payloadOffset()).isEqualTo(at + 20);
            assertThat(ip.payloadLength()).isEqualTo(64);
        } finally {
            buf.release();
        }
    }

    @Test
    void capturedRecordRouteOptionsAreSkipped() {
        ByteBuf buf = HexFixtures.directBuffer("icmp-echo-request-ip-options-record-route", 0);
        try {
            assertThat(ip.wrap(buf, 14, buf.readableBytes() - 14)).isEqualTo(ParseResult.OK);
            assertThat(ip.headerLength()).isEqualTo(60);
            assertThat(ip.optionsLength()).isEqualTo(40);
            assertThat((int) buf.getUnsignedByte(14 + 20)).as("first option: record route").isEqualTo(7);
            assertThat(ip.payloadOffset()).isEqualTo(14 + 60);
            assertThat(ip.payloadLength()).isEqualTo(8 + "options".length());
            assertThat((int) buf.getUnsignedByte(ip.payloadOffset())).isEqualTo(IcmpPacket.TYPE_ECHO_REQUEST);
        } finally {
            buf.release();
        }
    }

    @Test
    void capturedFragmentsReportFlagsAndOffsets() {
        String[] names = {"ipv4-fragment-1-of-3-udp", "ipv4-fragment-2-of-3-udp", "ipv4-fragment-3-of-3-udp"};
        int[] offsets = {0, 1480, 2960};
        boolean[] more = {true, true, false};
        int identification = -1;
        for (int i = 0; i < names.length; i++) {
            ByteBuf buf = HexFixtures.directBuffer(names[i], 0);
            try {
                assertThat(ip.wrap(buf, 14, buf.readableBytes() - 14)).as(names[i]).isEqualTo(ParseResult.OK);
                assertThat(ip.isFragment()).as(names[i]).isTrue();
                assertThat(ip.moreFragments()).as(names[i]).isEqualTo(more[i]);
                assertThat(ip.fragmentOffset()).as(names[i]).isEqualTo(offsets[i]);
                assertThat(ip.protocol()).isEqualTo(Ipv4Packet.PROTOCOL_UDP);
                if (identification >= 0) {
                    assertThat(ip.identification()).isEqualTo(identification);
                }
                identification = ip.identification();
            } finally {
                buf.release();
            }
        }
    }

    @Test
    void fragmentHeadersAreWrittenAsLinuxWroteTheCapturedOnes() {
        for (String name : new String[] {"ipv4-fragment-1-of-3-udp", "ipv4-fragment-2-of-3-udp",
                "ipv4-fragment-3-of-3-udp"}) {
            ByteBuf captured = HexFixtures.directBuffer(name, 0);
            ByteBuf written = Unpooled.buffer(Ipv4Packet.MIN_HEADER_LENGTH);
            try {
                assertThat(ip.wrap(captured, 14, captured.readableBytes() - 14)).isEqualTo(ParseResult.OK);
                assertThat(ip.dscpEcn()).isZero();
                Ipv4Packet.writeFragmentHeader(written, 0, ip.totalLength(), ip.identification(), ip.fragmentOffset(),
                        ip.moreFragments(), ip.ttl(), ip.protocol(), ip.source(), ip.destination());
                byte[] header = new byte[Ipv4Packet.MIN_HEADER_LENGTH];
                captured.getBytes(14, header);
                assertThat(written.array()).as(name + ", checksum included").isEqualTo(header);
            } finally {
                captured.release();
                written.release();
            }
        }
    }

    @Test
    void aFragmentOffsetMustCountWholeEightByteUnitsWithinTheField() {
        ByteBuf buf = Unpooled.buffer(28);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Ipv4Packet.writeFragmentHeader(buf, 0, 28, 1, 12,
                true, 64, Ipv4Packet.PROTOCOL_UDP, 1, 2)).isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Ipv4Packet.writeFragmentHeader(buf, 0, 28, 1,
                8192 * 8, false, 64, Ipv4Packet.PROTOCOL_UDP, 1, 2)).isInstanceOf(IllegalArgumentException.class);
        Ipv4Packet.writeFragmentHeader(buf, 0, 28, 1, 8191 * 8, false, 64, Ipv4Packet.PROTOCOL_UDP, 1, 2);
        buf.writerIndex(28);
        assertThat(ip.wrap(buf, 0, 28)).isEqualTo(ParseResult.OK);
        assertThat(ip.fragmentOffset()).isEqualTo(8191 * 8);
        assertThat(ip.moreFragments()).isFalse();
        assertThat(ip.dontFragment()).isFalse();
        buf.release();
    }

    @Test
    void ethernetPaddingAfterTheTotalLengthIsNotPayload() {
        byte[] frame = Arrays.copyOf(HexFixtures.bytes("icmp-echo-request-payload-0"), 60);
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        try {
            assertThat(ip.wrap(buf, 14, 46)).isEqualTo(ParseResult.OK);
            assertThat(ip.totalLength()).isEqualTo(28);
            assertThat(ip.payloadLength()).isEqualTo(8);
        } finally {
            buf.release();
        }
    }

    @Test
    void fewerThanTwentyBytesAreTruncated() {
        ByteBuf buf = Unpooled.wrappedBuffer(HexFixtures.bytes("icmp-echo-request-payload-0"));
        try {
            for (int length = 0; length < 20; length++) {
                assertThat(ip.wrap(buf, 14, length)).as("length %d", length).isEqualTo(ParseResult.TRUNCATED);
            }
        } finally {
            buf.release();
        }
    }

    @Test
    void versionOtherThanFourIsRefused() {
        assertThat(wrapCorrupted("icmp-echo-request-payload-56", 0, 0x65)).isEqualTo(ParseResult.UNSUPPORTED_VERSION);
    }

    @Test
    void ihlBelowFiveWordsIsRefused() {
        assertThat(wrapCorrupted("icmp-echo-request-payload-56", 0, 0x44)).isEqualTo(ParseResult.BAD_HEADER_LENGTH);
        assertThat(wrapCorrupted("icmp-echo-request-payload-56", 0, 0x40)).isEqualTo(ParseResult.BAD_HEADER_LENGTH);
    }

    @Test
    void ihlBeyondTheBytesPresentIsRefused() {
        ByteBuf buf = Unpooled.wrappedBuffer(HexFixtures.bytes("icmp-echo-request-ip-options-record-route"));
        try {
            assertThat(ip.wrap(buf, 14, 40)).isEqualTo(ParseResult.BAD_HEADER_LENGTH);
        } finally {
            buf.release();
        }
    }

    @Test
    void totalLengthBeyondTheBufferIsRefused() {
        ByteBuf buf = Unpooled.wrappedBuffer(HexFixtures.bytes("icmp-echo-request-payload-1000"));
        try {
            assertThat(ip.wrap(buf, 14, 1027)).isEqualTo(ParseResult.BAD_TOTAL_LENGTH);
            assertThat(ip.wrap(buf, 14, 1028)).isEqualTo(ParseResult.OK);
        } finally {
            buf.release();
        }
    }

    @Test
    void totalLengthShorterThanTheHeaderIsRefused() {
        // total length 0x0013 = 19 < 20
        assertThat(wrapCorrupted("icmp-echo-request-payload-56", 3, 0x13)).isEqualTo(ParseResult.BAD_TOTAL_LENGTH);
    }

    @Test
    void corruptedHeaderFailsItsChecksum() {
        // TTL 64 -> 63 without fixing the checksum
        assertThat(wrapCorrupted("icmp-echo-request-payload-56", 8, 63)).isEqualTo(ParseResult.BAD_CHECKSUM);
        assertThat(wrapCorrupted("icmp-echo-request-ip-options-record-route", 30, 1))
                .as("a flipped option byte is covered too")
                .isEqualTo(ParseResult.BAD_CHECKSUM);
    }

    @Test
    void inPlaceRewritesKeepTheHeaderChecksumValid() {
        ByteBuf buf = HexFixtures.directBuffer("udp-dns-query-example-com", 0);
        try {
            assertThat(ip.wrap(buf, 14, buf.readableBytes() - 14)).isEqualTo(ParseResult.OK);
            ip.setTtl(ip.ttl() - 1);
            ip.setSource(0xCB007105);
            ip.setDestination(0xC6336401);
            assertThat(ip.wrap(buf, 14, buf.readableBytes() - 14)).isEqualTo(ParseResult.OK);
            assertThat(ip.ttl()).isEqualTo(63);
            assertThat(Ipv4Address.format(ip.source())).isEqualTo("203.0.113.5");
            assertThat(Ipv4Address.format(ip.destination())).isEqualTo("198.51.100.1");
        } finally {
            buf.release();
        }
    }

    @Test
    void writtenHeaderWrapsWithTheSameFields() {
        ByteBuf buf = Unpooled.directBuffer(40).writeZero(40);
        try {
            int written = Ipv4Packet.writeHeader(buf, 4, 36, 0xBEEF, false, 64, Ipv4Packet.PROTOCOL_UDP, GATEWAY,
                    GUEST);
            assertThat(written).isEqualTo(20);
            assertThat(ip.wrap(buf, 4, 36)).isEqualTo(ParseResult.OK);
            assertThat(ip.identification()).isEqualTo(0xBEEF);
            assertThat(ip.dontFragment()).isFalse();
            assertThat(ip.isFragment()).isFalse();
            assertThat(ip.ttl()).isEqualTo(64);
            assertThat(ip.protocol()).isEqualTo(17);
            assertThat(ip.source()).isEqualTo(GATEWAY);
            assertThat(ip.destination()).isEqualTo(GUEST);
            assertThat(ip.payloadLength()).isEqualTo(16);
        } finally {
            buf.release();
        }
    }

    private ParseResult wrapCorrupted(String fixture, int ipByte, int value) {
        byte[] frame = HexFixtures.bytes(fixture);
        frame[14 + ipByte] = (byte) value;
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        try {
            return ip.wrap(buf, 14, frame.length - 14);
        } finally {
            buf.release();
        }
    }
}
