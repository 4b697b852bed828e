package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class EthernetFrameTest {

    private final EthernetFrame frame = new EthernetFrame();

    @Test
    void capturedArpBroadcastReadsAddressesAndType() {
        ByteBuf buf = HexFixtures.directBuffer("arp-request-who-has-10.0.2.2", 7);
        try {
            assertThat(frame.wrap(buf)).isEqualTo(ParseResult.OK);
            assertThat(frame.destination()).isEqualTo(MacAddress.BROADCAST);
            assertThat(frame.source()).isEqualTo(MacAddress.parse("52:55:0a:00:02:0f"));
            assertThat(frame.etherType()).isEqualTo(EthernetFrame.TYPE_ARP);
            assertThat(frame.hasVlanTag()).isFalse();
            assertThat(frame.vlanId()).isEqualTo(-1);
            assertThat(frame.payloadOffset()).isEqualTo(7 + 14);
            assertThat(frame.payloadLength()).isEqualTo(28);
        } finally {
            buf.release();
        }
    }

    @Test
    void vlanTagIsRecognisedAndSkipped() {
        ByteBuf buf = HexFixtures.directBuffer("arp-request-vlan-5-derived", 3);
        try {
            assertThat(frame.wrap(buf)).isEqualTo(ParseResult.OK);
            assertThat(frame.hasVlanTag()).isTrue();
            assertThat(frame.vlanId()).isEqualTo(5);
            assertThat(frame.etherType()).isEqualTo(EthernetFrame.TYPE_ARP);
            assertThat(frame.payloadOffset()).isEqualTo(3 + 18);
            assertThat(frame.payloadLength()).isEqualTo(28);
        } finally {
            buf.release();
        }
    }

    @Test
    void capturedIpv6MulticastHasTheGroupBit() {
        ByteBuf buf = HexFixtures.directBuffer("ipv6-icmpv6-router-solicitation", 0);
        try {
            assertThat(frame.wrap(buf)).isEqualTo(ParseResult.OK);
            assertThat(frame.etherType()).isEqualTo(EthernetFrame.TYPE_IPV6);
            assertThat(MacAddress.format(frame.destination())).isEqualTo("33:33:00:00:00:02");
            assertThat(MacAddress.isMulticast(frame.destination())).isTrue();
            assertThat(MacAddress.isBroadcast(frame.destination())).isFalse();
        } finally {
            buf.release();
        }
    }

    @Test
    void framesShorterThanTheHeaderOrTheirTagAreTruncated() {
        byte[] tagged = HexFixtures.bytes("arp-request-vlan-5-derived");
        for (int length = 0; length < 18; length++) {
            ByteBuf buf = Unpooled.wrappedBuffer(tagged, 0, length);
            try {
                assertThat(frame.wrap(buf)).as("length %d", length).isEqualTo(ParseResult.TRUNCATED);
            } finally {
                buf.release();
            }
        }
        byte[] untagged = HexFixtures.bytes("arp-request-who-has-10.0.2.2");
        ByteBuf header = Unpooled.wrappedBuffer(untagged, 0, 14);
        try {
            assertThat(frame.wrap(header)).isEqualTo(ParseResult.OK);
            assertThat(frame.payloadLength()).isZero();
        } finally {
            header.release();
        }
    }

    @Test
    void writtenHeaderReadsBack() {
        ByteBuf buf = Unpooled.directBuffer(20).writeZero(20);
        try {
            int written = EthernetFrame.writeHeader(buf, 2, MacAddress.parse("52:55:0a:00:02:0f"),
                    MacAddress.parse("52:54:00:12:34:56"), EthernetFrame.TYPE_IPV4);
            assertThat(written).isEqualTo(14);
            assertThat(frame.wrap(buf, 2, 18)).isEqualTo(ParseResult.OK);
            assertThat(MacAddress.format(frame.destination())).isEqualTo("52:55:0a:00:02:0f");
            assertThat(MacAddress.format(frame.source())).isEqualTo("52:54:00:12:34:56");
            assertThat(frame.etherType()).isEqualTo(0x0800);
        } finally {
            buf.release();
        }
    }
}
