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
 * Any bytes a guest sends as a frame: {@link EthernetFrame#wrap} never throws, reads only the frame, accepts exactly
 * the frames with a whole header (and tag), and an accepted header written back is byte for byte the same.
 */
class EthernetFrameFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void wrap(byte[] input) {
        List<Object> low = parse(input, FILL_LOW);
        List<Object> high = parse(input, FILL_HIGH);
        assertThat(high).as("result must not depend on bytes before the frame").isEqualTo(low);
    }

    private static List<Object> parse(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            EthernetFrame frame = new EthernetFrame();
            ParseResult result = frame.wrap(buf);
            int length = input.length;
            if (length < EthernetFrame.HEADER_LENGTH) {
                assertThat(result).isEqualTo(ParseResult.TRUNCATED);
                return List.of(result);
            }
            int type = (input[12] & 0xFF) << 8 | (input[13] & 0xFF);
            boolean tagged = type == EthernetFrame.TYPE_VLAN || type == EthernetFrame.TYPE_QINQ;
            if (tagged && length < EthernetFrame.HEADER_LENGTH + EthernetFrame.TAG_LENGTH) {
                assertThat(result).isEqualTo(ParseResult.TRUNCATED);
                return List.of(result);
            }
            assertThat(result).isEqualTo(ParseResult.OK);
            assertThat(frame.offset()).isEqualTo(GUARD);
            assertThat(frame.length()).isEqualTo(length);
            assertThat(frame.hasVlanTag()).isEqualTo(tagged);
            assertThat(frame.vlanId()).isBetween(-1, 0x0FFF);
            assertThat(frame.payloadOffset()).isBetween(GUARD, GUARD + length);
            assertThat(frame.payloadOffset() + frame.payloadLength()).isEqualTo(GUARD + length);
            assertThat(frame.etherType()).isBetween(0, 0xFFFF);

            ByteBuf written = Unpooled.buffer(EthernetFrame.HEADER_LENGTH);
            try {
                int n = EthernetFrame.writeHeader(written, 0, frame.destination(), frame.source(),
                        tagged ? type : frame.etherType());
                assertThat(n).isEqualTo(EthernetFrame.HEADER_LENGTH);
                assertThat(ByteBufUtil.getBytes(written, 0, n)).isEqualTo(ByteBufUtil.getBytes(buf, GUARD, n));
            } finally {
                written.release();
            }
            return List.of(result, frame.destination(), frame.source(), frame.etherType(), frame.vlanId(),
                    frame.payloadOffset(), frame.payloadLength());
        } finally {
            buf.release();
        }
    }
}
