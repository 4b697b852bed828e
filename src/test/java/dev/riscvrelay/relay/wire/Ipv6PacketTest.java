package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class Ipv6PacketTest {

    private static final long GUEST_MAC = MacAddress.parse("52:55:0a:00:02:0f");
    private static final long GATEWAY_MAC = MacAddress.parse("52:54:00:12:34:56");

    /** An echo request, identifier 0x1234, sequence 1, four data bytes. */
    private static final byte[] ECHO = Ipv6Fixtures.hex("8000 0000 1234 0001 6162 6364");

    @Test
    void readsTheFixedHeaderAndEndsThePayloadAtItsLength() {
        byte[] frame = Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, "fd00:10:0:2::15", "fd00:10:0:2::2", 64, 58, ECHO);
        byte[] padded = java.util.Arrays.copyOf(frame, frame.length + 10);
        ByteBuf buf = Unpooled.wrappedBuffer(padded);
        Ipv6Packet ip = new Ipv6Packet();
        assertThat(ip.wrap(buf, 14, padded.length - 14)).isEqualTo(ParseResult.OK);
        assertThat(ip.nextHeader()).isEqualTo(Ipv6Packet.NEXT_HEADER_ICMPV6);
        assertThat(ip.hopLimit()).isEqualTo(64);
        assertThat(Ipv6Address.format(ip.sourceHigh(), ip.sourceLow())).isEqualTo("fd00:10:0:2::15");
        assertThat(Ipv6Address.format(ip.destinationHigh(), ip.destinationLow())).isEqualTo("fd00:10:0:2::2");
        assertThat(ip.payloadOffset()).isEqualTo(14 + 40);
        assertThat(ip.payloadLength()).as("not the padding").isEqualTo(ECHO.length);
    }

    @Test
    void refusesShortPacketsOtherVersionsAndPayloadsPastTheEnd() {
        byte[] frame = Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, "fd00::15", "fd00::2", 64, 58, ECHO);
        Ipv6Packet ip = new Ipv6Packet();
        assertThat(ip.wrap(Unpooled.wrappedBuffer(frame), 14, 39)).isEqualTo(ParseResult.TRUNCATED);
        assertThat(ip.wrap(Unpooled.wrappedBuffer(frame), 14, frame.length - 15))
                .isEqualTo(ParseResult.BAD_TOTAL_LENGTH);
        byte[] v4 = frame.clone();
        v4[14] = 0x45;
        assertThat(ip.wrap(Unpooled.wrappedBuffer(v4), 14, v4.length - 14)).isEqualTo(ParseResult.UNSUPPORTED_VERSION);
    }

    @Test
    void writesAHeaderThatReadsBack() {
        ByteBuf buf = Unpooled.buffer(48);
        buf.writeZero(48);
        long[] from = Ipv6Address.parse("fe80::5054:ff:fe12:3456");
        long[] to = Ipv6Address.parse("ff02::1");
        assertThat(Ipv6Packet.writeHeader(buf, 0, 8, Ipv6Packet.NEXT_HEADER_UDP, 255, from[0], from[1], to[0], to[1]))
                .isEqualTo(Ipv6Packet.HEADER_LENGTH);
        assertThat(buf.getInt(0)).as("version 6, class and flow zero").isEqualTo(0x6000_0000);
        Ipv6Packet ip = new Ipv6Packet();
        assertThat(ip.wrap(buf, 0, 48)).isEqualTo(ParseResult.OK);
        assertThat(ip.payloadLength()).isEqualTo(8);
        assertThat(ip.nextHeader()).isEqualTo(Ipv6Packet.NEXT_HEADER_UDP);
        assertThat(ip.hopLimit()).isEqualTo(255);
        assertThat(new long[] {ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(), ip.destinationLow()})
                .containsExactly(from[0], from[1], to[0], to[1]);
    }

    @Test
    void icmpv6ChecksumCoversThePseudoHeader() {
        byte[] frame = Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, "fd00:10:0:2::15", "fd00:10:0:2::2", 64, 58, ECHO);
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        Ipv6Packet ip = new Ipv6Packet();
        assertThat(ip.wrap(buf, 14, frame.length - 14)).isEqualTo(ParseResult.OK);
        Icmpv6Packet icmp = new Icmpv6Packet();
        assertThat(icmp.wrap(ip)).isEqualTo(ParseResult.OK);
        assertThat(icmp.type()).isEqualTo(Icmpv6Packet.TYPE_ECHO_REQUEST);
        assertThat(icmp.identifier()).isEqualTo(0x1234);
        assertThat(icmp.sequenceNumber()).isEqualTo(1);
        assertThat(icmp.checksum()).isEqualTo(
                Ipv6Fixtures.icmpv6Checksum("fd00:10:0:2::15", "fd00:10:0:2::2", ECHO));

        // The same message between other addresses does not verify: the addresses are covered.
        byte[] moved = frame.clone();
        moved[14 + 8 + 15] = 0x16;
        Ipv6Packet other = new Ipv6Packet();
        other.wrap(Unpooled.wrappedBuffer(moved), 14, moved.length - 14);
        assertThat(new Icmpv6Packet().wrap(other)).isEqualTo(ParseResult.BAD_CHECKSUM);
        assertThat(new Icmpv6Packet().wrap(buf, 14 + 40, 3, 0)).isEqualTo(ParseResult.TRUNCATED);
    }

    @Test
    void fillChecksumAgreesWithTheReferenceComputation() {
        byte[] message = Ipv6Fixtures.hex("8100 0000 1234 0001 6162 63");
        ByteBuf buf = Unpooled.wrappedBuffer(message.clone());
        long[] from = Ipv6Address.parse("fd00:10:0:2::2");
        long[] to = Ipv6Address.parse("fd00:10:0:2::15");
        Icmpv6Packet.fillChecksum(buf, 0, message.length, from[0], from[1], to[0], to[1]);
        assertThat(buf.getUnsignedShort(2))
                .isEqualTo(Ipv6Fixtures.icmpv6Checksum("fd00:10:0:2::2", "fd00:10:0:2::15", message));
    }

    private static Ipv6Packet walked(int nextHeader, byte[] payload, ParseResult expected) {
        byte[] frame = Ipv6Fixtures.frame(GATEWAY_MAC, GUEST_MAC, "fd00::15", "fd00::2", 64, nextHeader, payload);
        Ipv6Packet ip = new Ipv6Packet();
        assertThat(ip.wrap(Unpooled.wrappedBuffer(frame), 14, frame.length - 14)).isEqualTo(ParseResult.OK);
        assertThat(ip.walkExtensionHeaders()).isEqualTo(expected);
        return ip;
    }

    @Test
    void walksHopByHopRoutingDestinationOptionsAndAuthenticationToTheUpperLayer() {
        byte[] hopByHop = Ipv6Fixtures.hex("2b 00 05 02 0000 0100"); // router alert, then routing (43)
        byte[] routing = Ipv6Fixtures.hex("3c 00 00 00 0000 0000"); // type 0, segments left 0, then dest opts (60)
        byte[] destination = Ipv6Fixtures.hex("33 01 010c 0000 0000 0000 0000 0000 0000"); // 16 bytes, then AH
        byte[] authentication = Ipv6Fixtures.hex("06 01 0000 0000 1234 0000 0001"); // (1 + 2) * 4 = 12 bytes, TCP
        byte[] tcp = new byte[20];
        Ipv6Packet ip = walked(0, Ipv6Fixtures.concat(hopByHop, routing, destination, authentication, tcp),
                ParseResult.OK);
        assertThat(ip.upperLayer()).isEqualTo(Ipv6Packet.NEXT_HEADER_TCP);
        assertThat(ip.upperLayerOffset()).isEqualTo(14 + 40 + 8 + 8 + 16 + 12);
        assertThat(ip.upperLayerLength()).isEqualTo(20);
        assertThat(ip.fragment()).isFalse();

        Ipv6Packet plain = walked(58, ECHO, ParseResult.OK);
        assertThat(plain.upperLayer()).isEqualTo(58);
        assertThat(plain.upperLayerOffset()).isEqualTo(plain.payloadOffset());
    }

    @Test
    void aFirstFragmentLeadsToItsUpperLayerALaterOneStopsAtItsData() {
        Ipv6Packet first = walked(44, Ipv6Fixtures.concat(Ipv6Fixtures.hex("11 00 0001 0000 0007"), new byte[8]),
                ParseResult.OK);
        assertThat(first.fragment()).isTrue();
        assertThat(first.laterFragment()).isFalse();
        assertThat(first.upperLayer()).isEqualTo(Ipv6Packet.NEXT_HEADER_UDP);

        Ipv6Packet later = walked(44, Ipv6Fixtures.concat(Ipv6Fixtures.hex("11 00 00b8 0000 0007"), new byte[8]),
                ParseResult.OK);
        assertThat(later.laterFragment()).isTrue();
        assertThat(later.upperLayerOffset()).isEqualTo(14 + 40 + 8);
    }

    @Test
    void aWrittenFragmentHeaderCarriesOffsetMoreFlagAndIdentificationAsRfc8200Lays() {
        ByteBuf buf = io.netty.buffer.Unpooled.buffer(8);
        buf.writerIndex(Ipv6Packet.writeFragmentHeader(buf, 0, Ipv6Packet.NEXT_HEADER_UDP, 184, true, 0x12345678));
        assertThat(io.netty.buffer.ByteBufUtil.hexDump(buf)).isEqualTo("110000b912345678");
        Ipv6Packet.writeFragmentHeader(buf, 0, Ipv6Packet.NEXT_HEADER_UDP, 0xFFF8, false, -1);
        assertThat(io.netty.buffer.ByteBufUtil.hexDump(buf)).isEqualTo("1100fff8ffffffff");
        Ipv6Packet later = walked(44, Ipv6Fixtures.concat(io.netty.buffer.ByteBufUtil.getBytes(buf), new byte[8]),
                ParseResult.OK);
        assertThat(later.laterFragment()).isTrue();
        assertThat(later.upperLayer()).isEqualTo(Ipv6Packet.NEXT_HEADER_UDP);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Ipv6Packet.writeFragmentHeader(buf, 0, 17, 12, true,
                1)).isInstanceOf(IllegalArgumentException.class);
        buf.release();
    }

    @Test
    void refusesChainsPastThePayloadTooLongOrWithAHopByHopHeaderLater() {
        walked(60, Ipv6Fixtures.hex("3a 01 0000 0000 0000"), ParseResult.BAD_EXTENSION_CHAIN);
        walked(60, Ipv6Fixtures.hex("3a 00 0000"), ParseResult.BAD_EXTENSION_CHAIN);
        walked(60, Ipv6Fixtures.hex("00 00 0104 0000 0000 3a00 0104 0000 0000"), ParseResult.BAD_EXTENSION_CHAIN);
        byte[] nine = new byte[0];
        for (int i = 0; i < Ipv6Packet.MAX_EXTENSION_HEADERS + 1; i++) {
            nine = Ipv6Fixtures.concat(nine, Ipv6Fixtures.hex("3c 00 0104 0000 0000"));
        }
        walked(60, Ipv6Fixtures.concat(nine, ECHO), ParseResult.BAD_EXTENSION_CHAIN);
        byte[] eight = java.util.Arrays.copyOf(nine, 8 * Ipv6Packet.MAX_EXTENSION_HEADERS);
        eight[eight.length - 8] = 58;
        assertThat(walked(60, Ipv6Fixtures.concat(eight, ECHO), ParseResult.OK).upperLayer()).isEqualTo(58);
    }
}
