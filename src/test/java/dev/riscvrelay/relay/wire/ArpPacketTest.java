package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class ArpPacketTest {

    private final EthernetFrame ethernet = new EthernetFrame();
    private final ArpPacket arp = new ArpPacket();

    @Test
    void capturedLinuxRequestReadsEveryField() {
        ByteBuf buf = HexFixtures.directBuffer("arp-request-who-has-10.0.2.2", 5);
        try {
            assertThat(ethernet.wrap(buf)).isEqualTo(ParseResult.OK);
            assertThat(arp.wrap(buf, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(arp.operation()).isEqualTo(ArpPacket.OPERATION_REQUEST);
            assertThat(MacAddress.format(arp.senderMac())).isEqualTo("52:55:0a:00:02:0f");
            assertThat(Ipv4Address.format(arp.senderIp())).isEqualTo("10.0.2.15");
            assertThat(arp.targetMac()).isZero();
            assertThat(Ipv4Address.format(arp.targetIp())).isEqualTo("10.0.2.2");
        } finally {
            buf.release();
        }
    }

    @Test
    void writerReproducesTheCapturedLinuxReplyByteForByte() {
        byte[] captured = HexFixtures.bytes("arp-reply-10.0.2.2-is-at-gateway");
        ByteBuf buf = Unpooled.directBuffer(captured.length);
        try {
            long gatewayMac = MacAddress.parse("52:54:00:12:34:56");
            long guestMac = MacAddress.parse("52:55:0a:00:02:0f");
            int at = EthernetFrame.writeHeader(buf, 0, guestMac, gatewayMac, EthernetFrame.TYPE_ARP);
            at += ArpPacket.write(buf, at, ArpPacket.OPERATION_REPLY, gatewayMac, Ipv4Address.parse("10.0.2.2"),
                    guestMac, Ipv4Address.parse("10.0.2.15"));
            buf.writerIndex(at);
            assertThat(ByteBufUtil.hexDump(buf)).isEqualTo(ByteBufUtil.hexDump(captured));
        } finally {
            buf.release();
        }
    }

    @Test
    void truncatedArpIsRefused() {
        byte[] frame = HexFixtures.bytes("arp-request-who-has-10.0.2.2");
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        try {
            for (int length = 0; length < 28; length++) {
                assertThat(arp.wrap(buf, 14, length)).as("length %d", length).isEqualTo(ParseResult.TRUNCATED);
            }
        } finally {
            buf.release();
        }
    }

    @Test
    void nonEthernetOrNonIpv4FormatsAreRefused() {
        // {byte index inside ARP, bad value}: hardware type, protocol type (IPv6), hardware length, protocol length
        int[][] corruptions = {{1, 6}, {0, 0x01}, {2, 0x86}, {4, 8}, {5, 16}};
        for (int[] corruption : corruptions) {
            byte[] frame = HexFixtures.bytes("arp-request-who-has-10.0.2.2");
            frame[14 + corruption[0]] = (byte) corruption[1];
            ByteBuf buf = Unpooled.wrappedBuffer(frame);
            try {
                assertThat(arp.wrap(buf, 14, frame.length - 14))
                        .as("byte %d = %d", corruption[0], corruption[1])
                        .isEqualTo(ParseResult.UNSUPPORTED_ARP_FORMAT);
            } finally {
                buf.release();
            }
        }
    }
}
