package dev.riscvrelay.relay.transport.framed;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.riscvrelay.relay.access.AddressAssignment;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.GuardedBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Any sequence of datagrams a framed-protocol client sends, with time passing: the session never throws, reads only
 * inside each datagram, releases every datagram exactly once (at the latest when it closes), holds at most its
 * bound of chunked frames, hands out frames within the size limit, and answers only with well-formed JSON of the
 * types the relay sends.
 *
 * <p>Input: records of [ticks (1 byte, 10 ms each)][length (2 bytes, big-endian)][that many bytes].
 */
class FramedSessionFuzzTest {

    private static final int HEADROOM = 8;

    @FuzzTest(maxDuration = "60s")
    void receive(byte[] input) {
        Counters counters = new Counters();
        long[] now = {0};
        List<String> sent = new ArrayList<>();
        int[] ended = {0};
        FramedSession session = new FramedSession(new FramedSession.Link() {
            @Override
            public void sendControl(byte[] json) {
                sent.add(new String(json, java.nio.charset.StandardCharsets.UTF_8));
            }

            @Override
            public void end(String reason) {
                ended[0]++;
            }
        }, mac -> (mac & 1) == 0 ? new AddressAssignment.Assigned(0x0a00020f, 0x0a000202, 0xffffff00, 0x0a000203)
                : new AddressAssignment.Refused("no", Counter.FRAMED_REFUSED),
                counters, () -> now[0], UnpooledByteBufAllocator.DEFAULT, HEADROOM);
        List<ByteBuf> given = new ArrayList<>();
        int at = 0;
        while (at + 3 <= input.length) {
            now[0] += (input[at] & 0xFF) * 10_000_000L;
            int length = Math.min(((input[at + 1] & 0xFF) << 8) | (input[at + 2] & 0xFF), input.length - at - 3);
            byte[] bytes = Arrays.copyOfRange(input, at + 3, at + 3 + length);
            at += 3 + length;
            ByteBuf datagram = GuardedBytes.guarded(bytes, GuardedBytes.FILL_HIGH);
            given.add(datagram);
            ByteBuf frame = session.receive(datagram);
            if (frame != null) {
                checkFrame(frame, datagram, bytes);
            }
            assertThat(session.chunksPending()).isLessThanOrEqualTo(ChunkReassembly.MAX_PENDING);
        }
        session.close();
        for (ByteBuf datagram : given) {
            assertThat(datagram.refCnt()).as("every datagram released exactly once").isZero();
        }
        for (String json : sent) {
            ByteBuf buf = Unpooled.wrappedBuffer(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertThat(BoundedJson.parse(buf, 0, buf.readableBytes())).isInstanceOfSatisfying(Map.class,
                    object -> assertThat(object.get("type")).isIn("Assigned", "HeartbeatAck", "Error"));
        }
        assertThat((long) ended[0]).as("every refused Register ends the session")
                .isGreaterThanOrEqualTo(counters.get(Counter.FRAMED_REFUSED));
    }

    /** A frame is the datagram itself behind its type byte, or a reassembled one within the limit. */
    private static void checkFrame(ByteBuf frame, ByteBuf datagram, byte[] bytes) {
        try {
            if (frame == datagram) {
                assertThat(bytes[0]).isEqualTo(FramedTypes.DATA);
                assertThat(ByteBufUtil.getBytes(frame)).isEqualTo(Arrays.copyOfRange(bytes, 1, bytes.length));
            } else {
                assertThat(bytes[0]).isEqualTo(FramedTypes.CHUNK);
                assertThat(frame.readerIndex()).isEqualTo(HEADROOM);
                assertThat(frame.readableBytes()).isBetween(1, ChunkReassembly.MAX_FRAME);
            }
        } finally {
            frame.release();
        }
    }
}
