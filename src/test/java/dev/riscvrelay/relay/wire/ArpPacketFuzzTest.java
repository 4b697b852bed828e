package dev.riscvrelay.relay.wire;

import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_HIGH;
import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_LOW;
import static dev.riscvrelay.relay.wire.GuardedBytes.GUARD;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.List;

/**
 * Any Ethernet payload a guest sends as ARP: {@link ArpPacket#wrap} never throws, reads only its range, accepts
 * exactly the Ethernet/IPv4 format, and an accepted packet written back with {@link ArpPacket#write} is the same.
 */
class ArpPacketFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void wrap(byte[] input) {
        assertThat(parse(input, FILL_HIGH)).as("result must not depend on bytes before the packet")
                .isEqualTo(parse(input, FILL_LOW));
    }

    private static List<Object> parse(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            ArpPacket arp = new ArpPacket();
            ParseResult result = arp.wrap(buf, GUARD, input.length);
            if (input.length < ArpPacket.LENGTH) {
                assertThat(result).isEqualTo(ParseResult.TRUNCATED);
                return List.of(result);
            }
            boolean ethernetIpv4 = input[0] == 0 && input[1] == 1 && input[2] == 8 && input[3] == 0
                    && input[4] == 6 && input[5] == 4;
            assertThat(result).isEqualTo(ethernetIpv4 ? ParseResult.OK : ParseResult.UNSUPPORTED_ARP_FORMAT);
            if (!ethernetIpv4) {
                return List.of(result);
            }
            ByteBuf written = Unpooled.buffer(ArpPacket.LENGTH);
            try {
                int n = ArpPacket.write(written, 0, arp.operation(), arp.senderMac(), arp.senderIp(), arp.targetMac(),
                        arp.targetIp());
                assertThat(n).isEqualTo(ArpPacket.LENGTH);
                assertThat(ByteBufUtil.getBytes(written, 0, n)).isEqualTo(ByteBufUtil.getBytes(buf, GUARD, n));
            } finally {
                written.release();
            }
            return List.of(result, arp.operation(), arp.senderMac(), arp.senderIp(), arp.targetMac(), arp.targetIp());
        } finally {
            buf.release();
        }
    }
}
