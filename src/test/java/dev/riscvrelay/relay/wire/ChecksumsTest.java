package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ChecksumsTest {

    @Test
    void rfc1071NumericalExampleSumsToDdf2() {
        // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 have the one's complement sum 0xddf2.
        ByteBuf buf = Unpooled.wrappedBuffer(HexFormat.of().parseHex("0001f203f4f5f6f7"));
        try {
            assertThat(Checksums.fold(Checksums.sum(buf, 0, 8))).isEqualTo(0xDDF2);
            assertThat(Checksums.internetChecksum(buf, 0, 8)).isEqualTo(~0xDDF2 & 0xFFFF);
        } finally {
            buf.release();
        }
    }

    @Test
    void everyOddLengthAndOffsetMatchesANaiveWordSum() {
        byte[] data = new byte[67];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 37 + 11);
        }
        ByteBuf buf = Unpooled.wrappedBuffer(data);
        try {
            for (int start = 0; start < 5; start++) {
                for (int length = 0; start + length <= data.length; length++) {
                    assertThat(Checksums.internetChecksum(buf, start, length))
                            .as("start %d length %d", start, length)
                            .isEqualTo(naiveChecksum(data, start, length));
                }
            }
        } finally {
            buf.release();
        }
    }

    @Test
    void capturedIpv4HeaderVerifiesAndRecomputesToItsOwnChecksum() {
        byte[] frame = HexFixtures.bytes("icmp-echo-request-payload-56");
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        try {
            assertThat(Checksums.verifies(buf, 14, 20)).isTrue();
            int captured = buf.getUnsignedShort(14 + 10);
            buf.setShort(14 + 10, 0);
            assertThat(Checksums.internetChecksum(buf, 14, 20)).isEqualTo(captured);
        } finally {
            buf.release();
        }
    }

    @Test
    void anEchoTurnedIntoItsReplyGetsTheChecksumASumWouldGiveAndNeverZero() {
        ByteBuf message = Unpooled.buffer(12);
        IcmpPacket.writeEchoHeader(message, 0, IcmpPacket.TYPE_ECHO_REQUEST, 0x1234, 7);
        message.setInt(8, 0xCAFE0042).writerIndex(12);
        IcmpPacket.fillChecksum(message, 0, 12);
        int request = message.getUnsignedShort(2);
        message.setByte(0, IcmpPacket.TYPE_ECHO_REPLY).setShort(2, 0);
        assertThat(Checksums.afterTypeChange(request, IcmpPacket.TYPE_ECHO_REQUEST, IcmpPacket.TYPE_ECHO_REPLY))
                .isEqualTo(Checksums.internetChecksum(message, 0, 12));

        // The all-zero reply (identifier 0, sequence 0, no data): equation 3 alone gives 0x0000.
        int zeroRequest = 0xFFFF - (IcmpPacket.TYPE_ECHO_REQUEST << 8);
        assertThat(Checksums.update16(zeroRequest, IcmpPacket.TYPE_ECHO_REQUEST << 8, 0)).isZero();
        assertThat(Checksums.afterTypeChange(zeroRequest, IcmpPacket.TYPE_ECHO_REQUEST, IcmpPacket.TYPE_ECHO_REPLY))
                .isEqualTo(0xFFFF);
    }

    @Test
    void incrementalUpdateFollowsRfc1624Equation3() {
        // RFC 1624 section 4: HC = 0xDD2F, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000 (equation 2 gave 0xFFFF).
        assertThat(Checksums.update16(0xDD2F, 0x5555, 0x3285)).isEqualTo(0x0000);
    }

    @Test
    void incrementalAddressRewriteMatchesARecomputedHeaderChecksum() {
        ByteBuf buf = Unpooled.wrappedBuffer(HexFixtures.bytes("udp-dns-query-example-com"));
        try {
            int ip = 14;
            int oldChecksum = buf.getUnsignedShort(ip + 10);
            int oldSource = buf.getInt(ip + 12);
            int newSource = 0xCB007105; // 203.0.113.5
            buf.setInt(ip + 12, newSource);
            int incremental = Checksums.update32(oldChecksum, oldSource, newSource);
            buf.setShort(ip + 10, 0);
            assertThat(incremental).isEqualTo(Checksums.internetChecksum(buf, ip, 20));
        } finally {
            buf.release();
        }
    }

    @Test
    void pseudoHeaderPlusCapturedUdpDatagramVerifies() {
        ByteBuf buf = Unpooled.wrappedBuffer(HexFixtures.bytes("udp-dns-query-example-com"));
        try {
            int udp = 14 + 20;
            int length = buf.getUnsignedShort(udp + 4);
            long sum = Checksums.pseudoHeaderSum(buf.getInt(14 + 12), buf.getInt(14 + 16), 17, length)
                    + Checksums.sum(buf, udp, length);
            assertThat(Checksums.fold(sum)).isEqualTo(0xFFFF);
        } finally {
            buf.release();
        }
    }

    private static int naiveChecksum(byte[] data, int start, int length) {
        int sum = 0;
        for (int i = 0; i < length; i += 2) {
            int high = data[start + i] & 0xFF;
            int low = i + 1 < length ? data[start + i + 1] & 0xFF : 0;
            sum += (high << 8) | low;
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return ~sum & 0xFFFF;
    }

    @Test
    void wideSumMatchesWordByWordSumForEveryLengthAndOffset() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(42);
        for (int round = 0; round < 500; round++) {
            int length = random.nextInt(0, 2000);
            int offset = random.nextInt(0, 9);
            byte[] bytes = new byte[offset + length];
            random.nextBytes(bytes);
            long reference = 0;
            for (int i = 0; i + 1 < length; i += 2) {
                reference += ((bytes[offset + i] & 0xFF) << 8) | (bytes[offset + i + 1] & 0xFF);
            }
            if (length % 2 == 1) {
                reference += (bytes[offset + length - 1] & 0xFF) << 8;
            }
            io.netty.buffer.ByteBuf heap = io.netty.buffer.Unpooled.wrappedBuffer(bytes);
            io.netty.buffer.ByteBuf direct = io.netty.buffer.Unpooled.directBuffer(bytes.length).writeBytes(bytes);
            try {
                assertThat(Checksums.fold(Checksums.sum(heap, offset, length))).isEqualTo(Checksums.fold(reference));
                assertThat(Checksums.fold(Checksums.sum(direct, offset, length)))
                        .isEqualTo(Checksums.fold(reference));
            } finally {
                direct.release();
            }
        }
    }
}
