package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class IcmpPacketTest {

    private final Ipv4Packet ip = new Ipv4Packet();
    private final IcmpPacket icmp = new IcmpPacket();

    @Test
    void capturedEchoRequestsOfEverySizeVerify() {
        String[] names = {"icmp-echo-request-payload-0", "icmp-echo-request-payload-56",
                "icmp-echo-request-payload-1000", "icmp-echo-request-ip-options-record-route"};
        int[] dataLengths = {0, 56, 1000, 7};
        int[] sequences = {1, 2, 3, 4};
        for (int i = 0; i < names.length; i++) {
            ByteBuf buf = HexFixtures.directBuffer(names[i], 1);
            try {
                assertThat(ip.wrap(buf, 1 + 14, buf.readableBytes() - 14)).isEqualTo(ParseResult.OK);
                assertThat(icmp.wrap(buf, ip.payloadOffset(), ip.payloadLength())).as(names[i])
                        .isEqualTo(ParseResult.OK);
                assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_ECHO_REQUEST);
                assertThat(icmp.code()).isZero();
                assertThat(icmp.identifier()).isEqualTo(0x1234);
                assertThat(icmp.sequenceNumber()).isEqualTo(sequences[i]);
                assertThat(icmp.dataLength()).isEqualTo(dataLengths[i]);
                assertThat(icmp.dataOffset()).isEqualTo(ip.payloadOffset() + 8);
            } finally {
                buf.release();
            }
        }
    }

    @Test
    void capturedPortUnreachableVerifiesAndQuotesTheQuery() {
        ByteBuf buf = HexFixtures.directBuffer("icmp-port-unreachable-for-dns-query", 0);
        try {
            assertThat(ip.wrap(buf, 14, buf.readableBytes() - 14)).isEqualTo(ParseResult.OK);
            assertThat(icmp.wrap(buf, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_DESTINATION_UNREACHABLE);
            assertThat(icmp.code()).isEqualTo(3);
            Ipv4Packet quoted = new Ipv4Packet();
            assertThat(quoted.wrap(buf, icmp.dataOffset(), icmp.dataLength())).isEqualTo(ParseResult.OK);
            assertThat(Ipv4Address.format(quoted.destination())).isEqualTo("10.0.2.3");
        } finally {
            buf.release();
        }
    }

    @Test
    void fewerThanEightBytesAreTruncated() {
        ByteBuf buf = Unpooled.wrappedBuffer(HexFixtures.bytes("icmp-echo-request-payload-56"));
        try {
            for (int length = 0; length < 8; length++) {
                assertThat(icmp.wrap(buf, 34, length)).as("length %d", length).isEqualTo(ParseResult.TRUNCATED);
            }
        } finally {
            buf.release();
        }
    }

    @Test
    void aFlippedDataByteFailsTheChecksum() {
        byte[] frame = HexFixtures.bytes("icmp-echo-request-payload-1000");
        frame[frame.length - 1] ^= 0x01;
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        try {
            assertThat(icmp.wrap(buf, 34, frame.length - 34)).isEqualTo(ParseResult.BAD_CHECKSUM);
        } finally {
            buf.release();
        }
    }

    @Test
    void writerReproducesTheCapturedLinuxEchoReplyMessage() {
        byte[] reply = HexFixtures.bytes("icmp-echo-reply-payload-56");
        byte[] request = HexFixtures.bytes("icmp-echo-request-payload-56");
        ByteBuf requestBuf = Unpooled.wrappedBuffer(request);
        ByteBuf buf = Unpooled.directBuffer(64);
        try {
            int at = IcmpPacket.writeEchoHeader(buf, 0, IcmpPacket.TYPE_ECHO_REPLY, 0x1234, 2);
            buf.setBytes(at, requestBuf, 34 + 8, 56);
            IcmpPacket.fillChecksum(buf, 0, 64);
            buf.writerIndex(64);
            assertThat(ByteBufUtil.hexDump(buf)).isEqualTo(ByteBufUtil.hexDump(reply, 34, 64));
        } finally {
            buf.release();
            requestBuf.release();
        }
    }
}
